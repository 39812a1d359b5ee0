/**
 * deploy/release/node-runtime.mjs: the check build.sh runs on a Node.js runtime tarball a
 * builder supplies (`npm run release -- armv7 --node …`). Here on official-layout tarballs
 * whose bin/node is a small real x86-64 ELF of this machine (/bin/true: the check reads
 * only the header, and a 100 MB node would make each case slow): the checksum against
 * SHASUMS256.txt, the layout, the architecture read from the ELF header, the version
 * against engines. The armv7l binary itself: test/release/armv7-runtime.test.ts.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../helpers/gateway-config.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SCRIPT = join(ROOT, 'deploy/release/node-runtime.mjs');
const ENGINES = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
const SMALL_ELF = ['/bin/true', '/usr/bin/true'].find((f) => existsSync(f)) ?? process.execPath;
const HOST = process.versions.node.split('.').map(Number) as [number, number, number];

/** node-v<version>-linux-<arch>.tar.xz as the Node.js project ships it, and its SHASUMS256.txt. */
function officialTarball(o: { version?: [number, number, number]; arch?: string; binary?: string; omit?: string } = {}) {
  const [major, minor, patch] = o.version ?? HOST;
  const arch = o.arch ?? 'x64';
  const dir = tempDir('cg-node-rt-');
  const top = `node-v${major}.${minor}.${patch}-linux-${arch}`;
  mkdirSync(join(dir, top, 'bin'), { recursive: true });
  mkdirSync(join(dir, top, 'include/node'), { recursive: true });
  if (o.omit !== 'bin/node') copyFileSync(o.binary ?? SMALL_ELF, join(dir, top, 'bin/node'));
  writeFileSync(join(dir, top, 'LICENSE'), 'Node.js is licensed for use as follows: …\n');
  writeFileSync(join(dir, top, 'include/node/node_version.h'), `#define NODE_MAJOR_VERSION ${major}\n#define NODE_MINOR_VERSION ${minor}\n#define NODE_PATCH_VERSION ${patch}\n`);
  const tarball = join(dir, `${top}.tar.xz`);
  execFileSync('tar', ['-C', dir, '-cJf', tarball, top]);
  const sum = execFileSync('sha256sum', [tarball], { encoding: 'utf8' }).split(' ')[0];
  writeFileSync(join(dir, 'SHASUMS256.txt'), `${'0'.repeat(64)}  node-v${major}.${minor}.${patch}-darwin-arm64.tar.gz\n${sum}  ${top}.tar.xz\n`);
  return { dir, tarball, shasums: join(dir, 'SHASUMS256.txt'), out: join(dir, 'runtime') };
}

function check(t: { tarball: string; out: string; shasums?: string }, arch: string, engines = ENGINES) {
  const args = [SCRIPT, '--tarball', t.tarball, '--arch', arch, '--engines', engines, '--out', t.out, ...(t.shasums ? ['--shasums', t.shasums] : [])];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout.trim(), stderr: r.stderr.trim() };
}

describe('a builder-supplied Node.js runtime tarball', () => {
  it('accepted: the checksum matches, the layout is official, the binary is for the target, the version meets engines', () => {
    const t = officialTarball();
    const r = check({ tarball: t.tarball, out: t.out }, 'x64'); // SHASUMS256.txt found beside the tarball
    expect(r, r.stderr).toMatchObject({ status: 0, stdout: HOST.join('.') });
    expect(existsSync(join(t.out, 'bin/node'))).toBe(true);
    expect(existsSync(join(t.out, 'include/node/node_version.h'))).toBe(true); // what node-gyp cross-compiles against
  });

  it('refused: a checksum mismatch, a tarball SHASUMS256.txt does not list, a missing SHASUMS256.txt', () => {
    const t = officialTarball();
    writeFileSync(t.shasums, readFileSync(t.shasums, 'utf8').replace(/^[0-9a-f]{64}(?= {2}node-v.*linux-x64)/m, 'f'.repeat(64)));
    const bad = check(t, 'x64');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/linux-x64\.tar\.xz: checksum mismatch — SHASUMS256\.txt says f{64}, the file is [0-9a-f]{64}: a damaged or different download; nothing was built/);
    expect(existsSync(t.out)).toBe(false);
    writeFileSync(t.shasums, `${'a'.repeat(64)}  node-v1.0.0-linux-x64.tar.xz\n`);
    expect(check(t, 'x64').stderr).toMatch(/SHASUMS256\.txt lists no node-v.*-linux-x64\.tar\.xz: take the SHASUMS256\.txt of the same Node\.js release/);
    expect(check({ tarball: t.tarball, out: t.out, shasums: join(t.dir, 'nope.txt') }, 'x64').stderr).toMatch(/nope\.txt: no such file/);
  });

  it('refused: a binary for another architecture (read from its ELF header), named in words', () => {
    const t = officialTarball({ arch: 'armv7l' }); // named armv7l, but the binary inside is x86-64
    const r = check(t, 'armv7l');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('bin/node is 64-bit x86-64, not 32-bit ARM (armv7l): take the linux-armv7l tarball');
    const notElf = officialTarball({ binary: join(ROOT, 'package.json') });
    expect(check(notElf, 'x64').stderr).toContain('bin/node is not an ELF executable');
  });

  it('refused: a version below engines, and a tarball without the official layout', () => {
    const old = officialTarball({ version: [18, 20, 4] });
    const r = check(old, 'x64');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`Node.js 18.20.4 does not satisfy engines "${ENGINES}"`);
    expect(check(officialTarball({ version: [22, 5, 0] }), 'x64', '^20.19.0 || ^22.12.0 || ^24.0.0').stderr).toContain('22.5.0 does not satisfy'); // a 22 older than 22.12
    expect(check(officialTarball({ version: [22, 12, 0] }), 'x64', '^20.19.0 || ^22.12.0 || ^24.0.0').status).toBe(0);
    expect(check(officialTarball({ omit: 'bin/node' }), 'x64').stderr).toMatch(/bin\/node is missing: not an official Node\.js binary tarball/);
  });
});

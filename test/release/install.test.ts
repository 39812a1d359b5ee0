/**
 * The installers in a fake root (ROOT=): deploy/install.sh --dry-run changes nothing;
 * a bundle's install.sh is idempotent — a second run keeps the release, the links
 * and the config a technician has edited since; --keys installs the release signing
 * keys root-owned (0755 directory, 0644 keys), and without any the installer warns.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/gateway-config.js';
import { hostBundle, trustKeysIn } from './host-bundle.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

function fakeRoot(): string {
  const root = tempDir('cg-root-');
  mkdirSync(join(root, 'etc'));
  for (const f of ['passwd', 'group', 'shadow', 'gshadow', 'login.defs']) if (existsSync(`/etc/${f}`)) copyFileSync(`/etc/${f}`, join(root, 'etc', f));
  return root;
}

function listTree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}

describe('deploy/install.sh --dry-run', () => {
  it('prints what it would do and changes nothing', () => {
    const root = fakeRoot();
    const before = listTree(root);
    const r = spawnSync('bash', [join(REPO, 'deploy/install.sh'), '--dry-run'], { encoding: 'utf8', env: { ...process.env, ROOT: root }, timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^\+ useradd -R .* citygate$/m);
    expect(r.stdout).toMatch(/^\+ install -m 0644 .*citygate\.service /m);
    expect(listTree(root)).toEqual(before);
  });

  it('refuses an unknown option and a missing config file', () => {
    const env = { ...process.env, ROOT: fakeRoot() };
    expect(spawnSync('bash', [join(REPO, 'deploy/install.sh'), '--force'], { encoding: 'utf8', env }).stderr).toContain('unknown option --force');
    expect(spawnSync('bash', [join(REPO, 'deploy/install.sh'), '/nope.yaml'], { encoding: 'utf8', env }).stderr).toContain('/nope.yaml: no such file');
  });
});

describe("a bundle's install.sh", () => {
  const work = tempDir('cg-install-');
  let installer = '';
  beforeAll(async () => {
    execFileSync('npm', ['run', 'build'], { cwd: REPO, stdio: 'ignore' });
    const tgz = await hostBundle(work, '0.1.0');
    execFileSync('tar', ['-C', work, '-xzf', tgz]);
    installer = join(work, `citygate-0.1.0-${process.arch}-test`, 'install.sh');
  });

  it('installs once, and a second run keeps release, links and an edited config', () => {
    const root = fakeRoot();
    const run = () => spawnSync(installer, [join(REPO, 'boards/demo.yaml')], { encoding: 'utf8', env: { ...process.env, ROOT: root }, timeout: 120_000 });
    const first = run();
    expect(first.status, first.stderr).toBe(0);
    const id = `0.1.0-${process.arch}-test`;
    expect(readlinkSync(join(root, 'opt/citygate/current'))).toBe(`releases/${id}`);
    const conf = join(root, 'etc/citygate/gateway.yaml');
    expect((statSync(conf).mode & 0o777).toString(8)).toBe('640');
    writeFileSync(conf, `${readFileSync(conf, 'utf8')}# edited on site\n`);
    const second = run();
    expect(second.status, second.stderr).toBe(0);
    expect(second.stdout).toContain(`release ${id} is already installed: keeping it`);
    expect(readlinkSync(join(root, 'opt/citygate/current'))).toBe(`releases/${id}`);
    expect(existsSync(join(root, 'opt/citygate/previous'))).toBe(false);
    expect(readFileSync(conf, 'utf8')).toMatch(/# edited on site\n$/);
    expect(readdirSync(join(root, 'opt/citygate/releases'))).toEqual([id]);
    expect(first.stdout).toContain('WARNING: no update signing key in /etc/citygate/keys');
  });

  it('--keys DIR installs the release signing public keys, root-owned; a file that is not one is refused', () => {
    const root = fakeRoot();
    const keys = trustKeysIn(tempDir('cg-keys-'));
    const r = spawnSync(installer, ['--keys', keys], { encoding: 'utf8', env: { ...process.env, ROOT: root }, timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`trusting 1 update signing key(s) from ${keys}`);
    expect(r.stdout).not.toContain('WARNING');
    const dir = join(root, 'etc/citygate/keys');
    expect((statSync(dir).mode & 0o777).toString(8)).toBe('755');
    expect((statSync(join(dir, 'release-test.pub')).mode & 0o777).toString(8)).toBe('644');
    expect(statSync(join(dir, 'release-test.pub')).uid).toBe(0);
    writeFileSync(join(keys, 'oops.pub'), '-----BEGIN PRIVATE KEY-----\n');
    const bad = spawnSync(installer, ['--keys', keys], { encoding: 'utf8', env: { ...process.env, ROOT: root }, timeout: 120_000 });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('oops.pub: not a PEM public key');
    expect(spawnSync(installer, ['--keys', '/nope'], { encoding: 'utf8', env: { ...process.env, ROOT: root } }).stderr).toContain('/nope: no such directory');
  });

  it('validates a given config first: a broken one is refused with file:line:col, the installed config stays', () => {
    const broken = join(REPO, 'test/golden/modbus-overlap.yaml');
    const run = (root: string, config: string) => spawnSync(installer, [config], { encoding: 'utf8', env: { ...process.env, ROOT: root }, timeout: 120_000 });
    // A fresh machine: nothing is installed.
    const fresh = fakeRoot();
    const refused = run(fresh, broken);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/modbus-overlap\.yaml:13:52: devices\[0\]\.points\[1\]\.address: point "pressure" .* overlaps point "flow"/);
    expect(refused.stderr).toMatch(/is not a valid gateway config \(above\): the installed config and the current release are unchanged/);
    expect(existsSync(join(fresh, 'etc/citygate/gateway.yaml'))).toBe(false);
    expect(existsSync(join(fresh, 'opt/citygate/current'))).toBe(false);
    // Installed before: the old config stays as it was.
    const root = fakeRoot();
    expect(run(root, join(REPO, 'boards/demo.yaml')).status).toBe(0);
    const conf = join(root, 'etc/citygate/gateway.yaml');
    const before = readFileSync(conf, 'utf8');
    const again = run(root, broken);
    expect(again.status).toBe(1);
    expect(readFileSync(conf, 'utf8')).toBe(before);
    expect(again.stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  });
});

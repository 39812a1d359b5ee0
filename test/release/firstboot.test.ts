/**
 * First-boot provisioning (deploy/firstboot.sh) in a fake root: a boot partition
 * folder as a technician fills it on a laptop (gateway.yaml, env, secrets.yaml, a CA
 * and a client key, the release signing public key in keys/, a release bundle with its
 * .sig), the script run with ROOT=
 * pointing at the fake root. Then: the bundle is installed under opt/citygate with a
 * current link, config and secrets sit in etc/citygate with the right owners and
 * modes, no secret is left on the boot partition, the units are enabled, and
 * REPORT.txt says OK; a broken gateway.yaml next time is reported with file:line:col,
 * and its secrets are still taken off the card; a bundle no trusted key signed is
 * not installed; on a gateway that never had a valid config the service is left
 * disabled (found on a real boot: docs/machine.md).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/gateway-config.js';
import { hostBundle, trustKeysIn } from './host-bundle.js';
import { generateKeys } from '../../src/release/signature.js';
import { createPrivateKey } from 'node:crypto';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const work = tempDir('cg-firstboot-');
const root = join(work, 'root');
const boot = join(root, 'boot/firmware/citygate');

function firstboot() {
  return spawnSync('bash', [join(REPO, 'deploy/firstboot.sh')], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, ROOT: root } });
}
const isLink = (f: string) => lstatSync(f, { throwIfNoEntry: false })?.isSymbolicLink() === true;
const mode = (f: string) => (statSync(f).mode & 0o777).toString(8);
const uidOf = (name: string) => Number(readFileSync(join(root, 'etc/passwd'), 'utf8').split('\n').find((l) => l.startsWith(`${name}:`))!.split(':')[2]);

beforeAll(async () => {
  execFileSync('npm', ['run', 'build'], { cwd: REPO, stdio: 'ignore' });
  for (const d of ['etc', 'var/tmp', 'boot/firmware/citygate']) mkdirSync(join(root, d), { recursive: true });
  for (const f of ['passwd', 'group', 'shadow', 'gshadow', 'login.defs']) if (existsSync(`/etc/${f}`)) copyFileSync(`/etc/${f}`, join(root, 'etc', f));
  writeFileSync(join(root, 'boot/firmware/cmdline.txt'), 'console=tty1 root=PARTUUID=1234-02 rootwait systemd.run=/boot/firmware/citygate/firstboot.sh systemd.run_success_action=reboot systemd.unit=kernel-command-line.target\n');
  const tgz = await hostBundle(work, '0.1.0');
  for (const ext of ['', '.sha256', '.sig']) renameSync(`${tgz}${ext}`, join(boot, `${basename(tgz)}${ext}`));
  trustKeysIn(join(boot, 'keys'));
  writeFileSync(join(boot, 'gateway.yaml'), [
    'gateway: { id: pole-0042, data_dir: /var/lib/citygate }',
    'uplink: { url: "mqtts://broker.example:8883", username: pole-0042, password: "${MQTT_PASSWORD}", tls: { ca: /etc/citygate/ca.pem, key: /etc/citygate/client.key, cert: /etc/citygate/client.pem } }',
    'devices: [ { id: t, driver: sim, poll: 10s, points: [ { name: x, wave: sine, min: 1, max: 2, period: 1h } ] } ]',
    '',
  ].join('\n'));
  writeFileSync(join(boot, 'env'), 'MQTT_PASSWORD=s3cret-on-the-card\n');
  writeFileSync(join(boot, 'secrets.yaml'), 'unused: x\n');
  for (const f of ['ca.pem', 'client.pem']) writeFileSync(join(boot, f), '-----BEGIN CERTIFICATE-----\n');
  writeFileSync(join(boot, 'client.key'), '-----BEGIN PRIVATE KEY-----\n');
});

describe('first boot from the boot partition', () => {
  it('installs the bundle, moves config and secrets, takes the secrets off the card, enables the service', () => {
    const r = firstboot();
    const report = readFileSync(join(boot, 'REPORT.txt'), 'utf8');
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(report).toContain('result: OK');
    expect(readlinkSync(join(root, 'opt/citygate/current'))).toBe(`releases/0.1.0-${process.arch}-test`);
    const etc = join(root, 'etc/citygate');
    expect(mode(join(etc, 'env'))).toBe('600');
    expect(statSync(join(etc, 'env')).uid).toBe(0);
    expect(mode(join(etc, 'secrets.yaml'))).toBe('600');
    expect(statSync(join(etc, 'secrets.yaml')).uid).toBe(uidOf('citygate'));
    expect(mode(join(etc, 'client.key'))).toBe('640');
    expect(mode(join(etc, 'ca.pem'))).toBe('644');
    expect(mode(join(etc, 'gateway.yaml'))).toBe('640');
    expect(readdirSync(boot).sort()).toEqual(['REPORT.txt', 'ca.pem', 'client.pem', 'gateway.yaml.applied', 'keys']);
    expect(report).toMatch(/signed by key [0-9a-f]{16}/);
    const key = join(root, 'etc/citygate/keys/release-test.pub');
    expect(mode(key)).toBe('644');
    expect(mode(join(root, 'etc/citygate/keys'))).toBe('755');
    expect(statSync(key).uid).toBe(0);
    expect(report).not.toContain('s3cret');
    expect(existsSync(join(root, 'etc/systemd/system/citygate.service'))).toBe(true);
    // enabled: the link `systemctl enable` makes (absolute, as on the gateway)
    expect(readlinkSync(join(root, 'etc/systemd/system/multi-user.target.wants/citygate.service'))).toBe('/etc/systemd/system/citygate.service');
    expect(existsSync(join(root, 'etc/udev/rules.d/99-citygate.rules'))).toBe(true);
    expect(readFileSync(join(root, 'boot/firmware/cmdline.txt'), 'utf8')).toBe('console=tty1 root=PARTUUID=1234-02 rootwait\n');
  });

  it('reports a broken gateway.yaml with file:line:col, does not apply it, still removes the secrets', () => {
    writeFileSync(join(boot, 'gateway.yaml'), 'gateway: { id: "Pole 42" }\nuplink: { url: "mqtt://x:1883" }\n');
    writeFileSync(join(boot, 'env'), 'MQTT_PASSWORD=second\n');
    const before = readFileSync(join(root, 'etc/citygate/gateway.yaml'), 'utf8');
    const r = firstboot();
    const report = readFileSync(join(boot, 'REPORT.txt'), 'utf8');
    expect(r.status).toBe(1);
    expect(report).toContain('result: FAILED');
    expect(report).toMatch(/gateway\.yaml:1:\d+: gateway\.id: /);
    expect(existsSync(join(boot, 'env'))).toBe(false);
    expect(existsSync(join(boot, 'gateway.yaml'))).toBe(true);
    expect(readFileSync(join(root, 'etc/citygate/gateway.yaml'), 'utf8')).toBe(before);
    // A config had been applied before: the service stays enabled on it.
    expect(isLink(join(root, 'etc/systemd/system/multi-user.target.wants/citygate.service'))).toBe(true);
  });

  it('on a gateway that never had a valid config, a broken gateway.yaml leaves the service disabled and no config to start on', () => {
    // No config applied yet (on a fresh card the bundle's installer then puts the example in place).
    rmSync(join(root, 'etc/citygate/gateway.yaml'));
    writeFileSync(join(boot, 'env'), 'MQTT_PASSWORD=third\n');
    const r = firstboot();
    const report = readFileSync(join(boot, 'REPORT.txt'), 'utf8');
    expect(r.status).toBe(1);
    expect(report).toContain('citygate.service is disabled until a valid gateway.yaml is applied');
    expect(existsSync(join(root, 'etc/citygate/gateway.yaml'))).toBe(false);
    expect(isLink(join(root, 'etc/systemd/system/multi-user.target.wants/citygate.service'))).toBe(false);
    expect(existsSync(join(boot, 'env'))).toBe(false);
  });

  it('does not install a bundle that no trusted key signed, nor one altered after signing', async () => {
    writeFileSync(join(boot, 'env'), 'MQTT_PASSWORD=third\n');
    const stranger = createPrivateKey(generateKeys().privatePem);
    const tgz = await hostBundle(work, '0.2.0', { signers: [stranger] });
    for (const ext of ['', '.sig']) renameSync(`${tgz}${ext}`, join(boot, `${basename(tgz)}${ext}`));
    const r = firstboot();
    const report = readFileSync(join(boot, 'REPORT.txt'), 'utf8');
    expect(r.status).toBe(1);
    expect(report).toContain('FAILED: not signed by a trusted key');
    expect(readlinkSync(join(root, 'opt/citygate/current'))).toBe(`releases/0.1.0-${process.arch}-test`);
    expect(existsSync(join(boot, 'env'))).toBe(false); // secrets still taken off the card

    const good = await hostBundle(work, '0.2.0');
    writeFileSync(join(boot, basename(good)), Buffer.concat([readFileSync(good), Buffer.from('tampered')]));
    renameSync(`${good}.sig`, join(boot, `${basename(good)}.sig`));
    firstboot();
    expect(readFileSync(join(boot, 'REPORT.txt'), 'utf8')).toContain('FAILED: hash mismatch');
    expect(readlinkSync(join(root, 'opt/citygate/current'))).toBe(`releases/0.1.0-${process.arch}-test`);
  });
});

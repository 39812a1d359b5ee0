/**
 * `update()` (src/release/update.ts) with signed bundles and a stand-in service that
 * reports whatever `current` points at as healthy: refusals change nothing under the
 * prefix, key rotation through a signed manifest's next_keys, revocation by removing a
 * key file, and a downgrade only with the gateway-side flag.
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ReleaseLayout } from '../../../src/release/layout.js';
import type { ServiceControl } from '../../../src/release/service.js';
import { update, type UpdateOptions } from '../../../src/release/update.js';
import type { HealthPayload } from '../../../src/uplink/topics.js';
import { tempDir } from '../../helpers/gateway-config.js';
import { testKey, tinyBundle, trustDir, type TestKey } from './sign-helpers.js';

/** A gateway at 1.0.0 that trusts `keys`; the service is "healthy" on any release. */
async function gateway(keys: TestKey[]) {
  const work = tempDir('cg-upd-sig-');
  const layout = new ReleaseLayout(join(work, 'opt'));
  const first = await layout.unpack(await tinyBundle(join(work, 'b0'), { version: '1.0.0' }));
  layout.point('current', first.id);
  const keysDir = trustDir(join(work, 'keys'), keys);
  let seq = 0;
  const service: ServiceControl = { restart: async () => undefined, isActive: async () => true };
  const health = async () =>
    ({ version: layout.manifest(layout.linked('current')!).version, buffer: { next_seq: ++seq }, uplink: { state: 'online' }, devices: {} }) as unknown as HealthPayload;
  const lines: string[] = [];
  const run = (bundle: string, o: Partial<UpdateOptions> = {}) =>
    update({ bundle, layout, service, health, dataDir: join(work, 'data'), graceMs: 5000, pollMs: 1, trustDir: keysDir, say: (l) => lines.push(l), ...o });
  let n = 0;
  const bundle = (b: Parameters<typeof tinyBundle>[1]) => tinyBundle(join(work, `b${++n}`), b);
  return { work, layout, keysDir, run, bundle, lines };
}

describe('update with signed bundles', () => {
  it('installs a signed newer release; refuses unsigned, untrusted and altered ones without touching releases/', async () => {
    const k1 = testKey();
    const g = await gateway([k1]);
    const before = readdirSync(g.layout.releases).sort();
    await expect(g.run(await g.bundle({ version: '1.1.0' }))).rejects.toThrow(/unsigned/);
    await expect(g.run(await g.bundle({ version: '1.1.0', signers: [testKey()] }))).rejects.toThrow(/does not trust/);
    const altered = await g.bundle({ version: '1.1.0', signers: [k1] });
    const bytes = readFileSync(altered);
    bytes[100]! ^= 1;
    writeFileSync(altered, bytes);
    await expect(g.run(altered)).rejects.toThrow(/hash mismatch/);
    expect(readdirSync(g.layout.releases).sort()).toEqual(before); // nothing unpacked, no staging left
    expect(g.layout.linked('current')).toBe(`1.0.0-${process.arch}-t`);

    const r = await g.run(await g.bundle({ version: '1.1.0', signers: [k1] }));
    expect(r.outcome).toBe('updated');
    expect(g.layout.linked('current')).toBe(`1.1.0-${process.arch}-t`);
    expect(g.lines.join('\n')).toContain(`signed by key ${k1.id}`);
  });

  it('rotates keys: a release signed by the current key names the next; the next then signs; the old one is revoked by removing it', async () => {
    const [k1, k2] = [testKey(), testKey()];
    const g = await gateway([k1]);
    // An older release naming k2 is refused (downgrade) and does not install it.
    await expect(g.run(await g.bundle({ version: '0.9.0', signers: [k1], next: [k2] }))).rejects.toThrow(/older than the running 1\.0\.0/);
    expect(existsSync(join(g.keysDir, `${k2.id}.pub`))).toBe(false);

    expect((await g.run(await g.bundle({ version: '1.1.0', signers: [k1], next: [k2] }))).outcome).toBe('updated');
    const installed = join(g.keysDir, `${k2.id}.pub`);
    expect(readFileSync(installed, 'utf8')).toBe(k2.pubPem);
    expect((statSync(installed).mode & 0o777).toString(8)).toBe('644');
    expect(g.lines.join('\n')).toContain(`trusting the next release key(s) it names: ${k2.id}`);

    expect((await g.run(await g.bundle({ version: '1.2.0', signers: [k2] }))).outcome).toBe('updated');
    // Revocation: the technician removes k1's file; k1's signature counts no more.
    rmSync(join(g.keysDir, `${k1.id}.pub`));
    await expect(g.run(await g.bundle({ version: '1.3.0', signers: [k1] }))).rejects.toThrow(new RegExp(`signed by key ${k1.id}, which this gateway does not trust`));
    expect(g.layout.linked('current')).toBe(`1.2.0-${process.arch}-t`);
  });

  it('a same-version release signed by a trusted key installs, but brings no new keys', async () => {
    const [k1, k2] = [testKey(), testKey()];
    const g = await gateway([k1]);
    // Another build of the running version: not older, so allowed; not newer, so its
    // next_keys are not trusted (a replayed same-version manifest cannot bring back a revoked key).
    const r = await g.run(await g.bundle({ version: '1.0.0', build: 'rebuild', signers: [k1], next: [k2] }));
    expect(r.outcome).toBe('updated');
    expect(g.layout.linked('current')).toBe(`1.0.0-${process.arch}-rebuild`);
    expect(existsSync(join(g.keysDir, `${k2.id}.pub`))).toBe(false);
  });

  it('goes back to an older release only with --allow-downgrade (given on the gateway)', async () => {
    const k1 = testKey();
    const g = await gateway([k1]);
    const old = await g.bundle({ version: '0.9.0', signers: [k1] });
    await expect(g.run(old)).rejects.toThrow(/older than the running 1\.0\.0.*--allow-downgrade/);
    const r = await g.run(old, { allowDowngrade: true });
    expect(r.outcome).toBe('updated');
    expect(g.layout.linked('current')).toBe(`0.9.0-${process.arch}-t`);
  });
});

/**
 * Signed bundles (src/release/signature.ts, signed-manifest.ts, verify-bundle.ts,
 * trust.ts): every refusal, each a one-line reason, and success — with keys generated
 * here. Verification reads the bundle once, into a private copy, and only that copy is
 * ever unpacked.
 */
import { appendFileSync, chmodSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../../src/core/errors.js';
import { compareVersions } from '../../../src/release/version-order.js';
import { loadTrust } from '../../../src/release/trust.js';
import { parseSignatureFile, signPayload } from '../../../src/release/signature.js';
import { stageVerified, type VerifyOptions } from '../../../src/release/verify-bundle.js';
import { tempDir } from '../../helpers/gateway-config.js';
import { testKey, tinyBundle, trustDir } from './sign-helpers.js';

const k1 = testKey();
const k2 = testKey();

async function refusal(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UserError);
  const msg = (err as Error).message;
  expect(msg).not.toContain('\n'); // one line, no stack
  return msg;
}

function opts(work: string, o: Partial<VerifyOptions> = {}): VerifyOptions {
  return { trust: loadTrust(trustDir(join(work, 'keys'), [k1])), arch: process.arch, runningVersion: '1.0.0', ...o };
}

describe('verifying a bundle', () => {
  it('accepts a bundle signed by a trusted key, on a private copy with the same bytes', async () => {
    const work = tempDir('cg-sign-');
    const tgz = await tinyBundle(work, { version: '1.1.0', signers: [k1] });
    const stage = tempDir('cg-stage-');
    const v = await stageVerified(tgz, stage, opts(work));
    expect(v.keyId).toBe(k1.id);
    expect(v.manifest).toMatchObject({ version: '1.1.0', arch: process.arch, bundle: tgz.split('/').pop() });
    expect(v.forward).toBe(true);
    expect(readFileSync(v.file).equals(readFileSync(tgz))).toBe(true);
    expect(v.file.startsWith(stage)).toBe(true);
    v.remove();
    expect(readdirSync(stage)).toEqual([]);
  });

  it('refuses an unsigned bundle: no .sig, or a .sig without a signature', async () => {
    const work = tempDir('cg-sign-');
    const tgz = await tinyBundle(work, { version: '1.1.0' });
    expect(await refusal(stageVerified(tgz, tempDir(), opts(work)))).toMatch(/^update refused: citygate-1\.1\.0-linux-\w+\.tar\.gz is unsigned \(no .*\.sig beside it\)/);
    const signed = readFileSync(`${(await tinyBundle(tempDir(), { version: '1.1.0', signers: [k1] }))}.sig`, 'utf8');
    writeFileSync(`${tgz}.sig`, signed.split('\n').filter((l) => !l.startsWith('signature ')).join('\n'));
    expect(await refusal(stageVerified(tgz, tempDir(), opts(work)))).toMatch(/is unsigned \(its \.sig holds no signature\)/);
  });

  it('refuses a bundle signed by a key the gateway does not trust', async () => {
    const work = tempDir('cg-sign-');
    const tgz = await tinyBundle(work, { version: '1.1.0', signers: [k2] });
    const msg = await refusal(stageVerified(tgz, tempDir(), opts(work)));
    expect(msg).toContain(`signed by key ${k2.id}, which this gateway does not trust (trusted: ${k1.id})`);
  });

  it('refuses a bad signature: the manifest altered after signing', async () => {
    const work = tempDir('cg-sign-');
    const tgz = await tinyBundle(work, { version: '1.1.0', signers: [k1] });
    writeFileSync(`${tgz}.sig`, readFileSync(`${tgz}.sig`, 'utf8').replace('"version":"1.1.0"', '"version":"9.0.0"'));
    expect(await refusal(stageVerified(tgz, tempDir(), opts(work)))).toContain(`bad signature by key ${k1.id}`);
    // and a signature line that is not the key's signature of this manifest
    const sig = parseSignatureFile(readFileSync(`${tgz}.sig`, 'utf8'), 'x');
    writeFileSync(`${tgz}.sig`, signPayload(sig.payload, [k2.priv]).replace(k2.id, k1.id));
    expect(await refusal(stageVerified(tgz, tempDir(), opts(work)))).toContain('bad signature');
  });

  it('refuses a bundle whose bytes are not the ones the manifest pins, leaving no copy', async () => {
    const work = tempDir('cg-sign-');
    const tgz = await tinyBundle(work, { version: '1.1.0', signers: [k1] });
    appendFileSync(tgz, Buffer.from('x'));
    const stage = tempDir('cg-stage-');
    expect(await refusal(stageVerified(tgz, stage, opts(work)))).toMatch(/hash mismatch/);
    expect(readdirSync(stage)).toEqual([]);
    // same length, other bytes
    const tgz2 = await tinyBundle(tempDir(), { version: '1.1.0', signers: [k1] });
    const bytes = readFileSync(tgz2);
    bytes[bytes.length - 1]! ^= 0xff;
    writeFileSync(tgz2, bytes);
    expect(await refusal(stageVerified(tgz2, stage, opts(work)))).toMatch(/hash mismatch/);
  });

  it('refuses an older version (rollback attack) unless a downgrade is allowed on the gateway', async () => {
    const work = tempDir('cg-sign-');
    const tgz = await tinyBundle(work, { version: '0.9.0', signers: [k1] });
    expect(await refusal(stageVerified(tgz, tempDir(), opts(work)))).toContain('is version 0.9.0, older than the running 1.0.0');
    const v = await stageVerified(tgz, tempDir(), opts(work, { allowDowngrade: true }));
    expect(v.forward).toBe(false);
    // The same version again is not older, and not forward either (no new keys from it).
    const same = await stageVerified(await tinyBundle(tempDir(), { version: '1.0.0', signers: [k1] }), tempDir(), opts(work));
    expect(same.forward).toBe(false);
  });

  it('refuses another architecture, a symlinked bundle, and an empty trust directory', async () => {
    const work = tempDir('cg-sign-');
    const other = process.arch === 'arm64' ? 'x64' : 'arm64';
    const tgz = await tinyBundle(work, { version: '1.1.0', arch: other, signers: [k1] });
    expect(await refusal(stageVerified(tgz, tempDir(), opts(work)))).toContain(`is built for ${other}; this gateway is ${process.arch}`);
    const good = await tinyBundle(tempDir(), { version: '1.1.0', signers: [k1] });
    const link = join(tempDir(), good.split('/').pop()!);
    symlinkSync(good, link);
    symlinkSync(`${good}.sig`, `${link}.sig`);
    expect(await refusal(stageVerified(link, tempDir(), opts(work)))).toMatch(/is a symbolic link/);
    const empty = loadTrust(tempDir('cg-nokeys-'));
    expect(await refusal(stageVerified(good, tempDir(), opts(work, { trust: empty })))).toContain('no trusted update keys');
  });

  it('accepts a bundle signed by two keys when one of them is trusted (a rotation overlap)', async () => {
    const work = tempDir('cg-sign-');
    const tgz = await tinyBundle(work, { version: '1.1.0', signers: [k2, k1] });
    expect((await stageVerified(tgz, tempDir(), opts(work))).keyId).toBe(k1.id);
  });
});

describe('the trust directory', () => {
  it('skips files that are not ed25519 public keys, and, as root, keys others may write', () => {
    const dir = trustDir(tempDir('cg-trust-'), [k1, k2]);
    writeFileSync(join(dir, 'junk.pub'), 'not a key\n');
    const t = loadTrust(dir);
    expect([...t.keys.keys()].sort()).toEqual([k1.id, k2.id].sort());
    expect(t.skipped.join('\n')).toMatch(/junk\.pub: not a public key/);
    if (process.getuid?.() === 0) {
      chmodSync(join(dir, `${k2.id}.pub`), 0o666);
      expect([...loadTrust(dir).keys.keys()]).toEqual([k1.id]);
      chmodSync(dir, 0o777);
      expect(() => loadTrust(dir)).toThrow(/writable by others than root/);
    }
    expect(() => loadTrust(join(dir, 'nope'))).toThrow(/does not exist/);
  });
});

describe('version order', () => {
  it('orders semantic versions, prereleases before their release', () => {
    expect(compareVersions('1.2.3', '1.2.3')).toBe(0);
    expect(compareVersions('1.10.0', '1.9.9')).toBeGreaterThan(0);
    expect(compareVersions('2.0.0-rc.1', '2.0.0')).toBeLessThan(0);
    expect(compareVersions('2.0.0-rc.10', '2.0.0-rc.9')).toBeGreaterThan(0);
    expect(compareVersions('1.0.0+build.5', '1.0.0')).toBe(0);
    expect(compareVersions('latest', '1.0.0')).toBeUndefined();
  });
});

/**
 * `citygate keys` as a release engineer and a technician use it: a key pair made outside
 * the checkout (refused inside it), a bundle signed with it and the next key named,
 * verified against a trust directory, and the trusted keys listed — each error a message,
 * never a stack trace.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, STACK, runCli } from '../../helpers/cli.js';
import { tempDir } from '../../helpers/gateway-config.js';
import { parseSignatureFile } from '../../../src/release/signature.js';
import { tinyBundle } from './sign-helpers.js';

describe('citygate keys', () => {
  it('generates a pair, signs a bundle naming the next key, verifies it, lists the trusted keys', async () => {
    const dir = tempDir('cg-keys-cli-');
    const gen = await runCli(['keys', 'generate', 'rel', '--out', join(dir, 'k')]);
    expect(gen.code, gen.stderr).toBe(0);
    const id = /id ([0-9a-f]{16})/.exec(gen.stdout)![1]!;
    expect((statSync(join(dir, 'k/rel.key')).mode & 0o777).toString(8)).toBe('600');
    expect(readFileSync(join(dir, 'k/rel.pub'), 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect((await runCli(['keys', 'generate', 'rel', '--out', join(dir, 'k')])).stderr).toMatch(/rel\.key exists: not overwritten/);
    expect((await runCli(['keys', 'generate', 'next', '--out', join(dir, 'k')])).code).toBe(0);

    const tgz = await tinyBundle(join(dir, 'b'), { version: '1.2.0' });
    const sign = await runCli(['keys', 'sign', tgz, '--key', join(dir, 'k/rel.key'), '--next-key', join(dir, 'k/next.pub')]);
    expect(sign.code, sign.stderr).toBe(0);
    const sig = parseSignatureFile(readFileSync(`${tgz}.sig`, 'utf8'), 'sig');
    expect(sig.signatures.map((s) => s.keyId)).toEqual([id]);
    expect(JSON.parse(sig.payload)).toMatchObject({ version: '1.2.0', next_keys: [expect.any(String)] });

    const trust = join(dir, 'trust');
    mkdirSync(trust, { mode: 0o755 });
    const untrusted = await runCli(['keys', 'verify', tgz, '--keys', trust]);
    expect(untrusted.code).toBe(1);
    expect(untrusted.stderr).toContain('no trusted update keys');
    writeFileSync(join(trust, 'rel.pub'), readFileSync(join(dir, 'k/rel.pub')), { mode: 0o644 });
    const ok = await runCli(['keys', 'verify', tgz, '--keys', trust]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain(`good signature by key ${id}; citygate 1.2.0`);
    const list = await runCli(['keys', 'list', '--keys', trust]);
    expect(list.stdout).toContain(`${id}  ${join(trust, 'rel.pub')}`);
    for (const r of [untrusted, ok, list]) expect(r.stderr).not.toMatch(STACK);
  }, 120_000);

  it('refuses to write a private key inside the checkout, and a key that is not one', async () => {
    const inside = await runCli(['keys', 'generate', 'oops', '--out', join(ROOT, 'deploy')]);
    expect(inside.code).toBe(1);
    expect(inside.stderr).toMatch(/a private key never goes into the repository/);
    expect(existsSync(join(ROOT, 'deploy/oops.key'))).toBe(false);
    const dir = tempDir('cg-keys-cli-');
    writeFileSync(join(dir, 'junk.key'), 'junk');
    const tgz = await tinyBundle(join(dir, 'b'), { version: '1.0.0' });
    const bad = await runCli(['keys', 'sign', tgz, '--key', join(dir, 'junk.key')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/junk\.key: not a private key/);
    expect(bad.stderr).not.toMatch(STACK);
  }, 60_000);
});

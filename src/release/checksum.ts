/**
 * A bundle travels with its SHA-256 next to it: `citygate-….tar.gz.sha256`, one line
 * in sha256sum's format (`<64 hex>  <file name>`), so `sha256sum -c` checks it too.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { UserError } from '../core/errors.js';

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Resolves when `bundle` matches `bundle.sha256`; a UserError saying what is wrong otherwise. */
export async function verifyBundle(bundle: string): Promise<string> {
  if (!existsSync(bundle)) throw new UserError(`${bundle}: no such file`);
  const sumFile = `${bundle}.sha256`;
  if (!existsSync(sumFile)) throw new UserError(`${sumFile} is missing: copy it with the bundle (the update checks it before installing anything)`);
  const m = /^([0-9a-f]{64})\s+\*?(.+)$/m.exec(readFileSync(sumFile, 'utf8'));
  if (!m) throw new UserError(`${sumFile}: expected "<sha256>  <file name>"`);
  if (basename(m[2]!.trim()) !== basename(bundle)) throw new UserError(`${sumFile} is for ${m[2]!.trim()}, not ${basename(bundle)}`);
  const actual = await sha256File(bundle);
  if (actual !== m[1]) throw new UserError(`${bundle}: checksum mismatch (expected ${m[1]}, got ${actual}): the copy is damaged or not the release it claims; nothing was installed`);
  return actual;
}

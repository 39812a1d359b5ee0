/**
 * SHA-256 of a file, streamed. A bundle's signed manifest pins this digest
 * (signed-manifest.ts); the `.sha256` file release builds still write beside a bundle
 * is for `sha256sum -c` after a copy, and is not what an update trusts.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

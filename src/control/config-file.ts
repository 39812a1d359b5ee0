/**
 * Writing the gateway's config file so that a power cut at any moment leaves either
 * the old file or the new one, never half of each: write a temporary file beside it,
 * fsync it, rename it over the original, fsync the directory. The previous good
 * config is kept beside it as `<file>.last-good` (written the same way).
 */
import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export function writeFileAtomically(file: string, text: string): void {
  const tmp = join(dirname(file), `.${basename(file)}.tmp-${process.pid}`);
  const fd = openSync(tmp, 'w', 0o640);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  try {
    const dir = openSync(dirname(file), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  } catch {
    // some filesystems refuse fsync on a directory; the rename is still atomic
  }
}

export const lastGoodPath = (file: string): string => `${file}.last-good`;

/** Keep `lastGood` as the fallback, then put `text` in place. */
export function replaceConfig(file: string, text: string, lastGood: string): void {
  writeFileAtomically(lastGoodPath(file), lastGood);
  writeFileAtomically(file, text);
}

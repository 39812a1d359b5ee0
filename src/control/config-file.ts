/**
 * Writing the gateway's config file so that a power cut at any moment leaves either
 * the old file or the new one, never half of each (src/core/durable-file.ts: temp
 * file, fsync, rename, directory fsync). The previous good config is kept beside it
 * as `<file>.last-good` (written the same way).
 */
import { nodeFileOps, writeFileAtomic, type FileOps } from '../core/durable-file.js';

export function writeFileAtomically(file: string, text: string, ops: FileOps = nodeFileOps): void {
  writeFileAtomic(file, text, { mode: 0o640, ops });
}

export const lastGoodPath = (file: string): string => `${file}.last-good`;

/** Keep `lastGood` as the fallback, then put `text` in place. */
export function replaceConfig(file: string, text: string, lastGood: string, ops: FileOps = nodeFileOps): void {
  writeFileAtomically(lastGoodPath(file), lastGood, ops);
  writeFileAtomically(file, text, ops);
}

/**
 * The on-disk format of the buffer, as an update sees it.
 *
 * The buffer database records its format in SQLite's `PRAGMA user_version` (0 for
 * the format of the first releases, which never set it). A release declares, in its
 * release.json, the newest format it reads and writes (`buffer_format`); it reads
 * every older one. `citygate update` refuses a release that cannot read the buffer
 * on disk, and a release whose format is newer than the running one's: after such
 * an update a rollback would find a buffer it cannot read.
 *
 * Read here with a read-only open, so checking never changes the file.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

/** The buffer format this build reads and writes. Raise it with the buffer's own. */
export const BUFFER_FORMAT = 0;

/** The format of the buffer in `dataDir`, or undefined when there is no buffer yet. */
export function readBufferFormat(dataDir: string): number | undefined {
  const file = join(dataDir, 'buffer.db');
  if (!existsSync(file)) return undefined;
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.pragma('user_version', { simple: true }) as number;
  } finally {
    db.close();
  }
}

/**
 * Why updating from a release writing format `from` to one writing `to` is unsafe
 * for a buffer currently at `onDisk`; undefined when it is safe.
 */
export function formatProblem(onDisk: number | undefined, from: number, to: number): string | undefined {
  if (onDisk !== undefined && onDisk > to)
    return `the buffer on disk is format ${onDisk}; the new release reads at most format ${to}`;
  if (to > from)
    return `the new release writes buffer format ${to}, the running one reads at most ${from}: a rollback could not read the buffer (update to a release with format ${from} first, or empty the buffer with \`citygate queue purge\`)`;
  return undefined;
}

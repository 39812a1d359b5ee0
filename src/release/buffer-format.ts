/**
 * The on-disk format of the buffer, as an update and a starting gateway see it.
 *
 * The buffer database records its format in SQLite's `PRAGMA user_version` (0 for
 * the format of the first releases, which never set it; the buffer migrates at open).
 * A release declares two formats in its release.json:
 * - `buffer_format`: the format it writes at the least. A release it replaces must read
 *   it: after the update, a rollback returns to that release and its buffer.
 * - `buffer_reads` (absent: `buffer_format`): the newest format it reads. It writes that
 *   one only when every release it may be rolled back to reads it too (`rowFormatFor`).
 *
 * So a new format rolls out over two updates with no operator step: the first release
 * that reads format 2 still writes format 1 while the release before it is its rollback
 * target; the next update (or a fresh install, with nothing to roll back to) writes 2.
 * `citygate update` refuses a release that cannot read the buffer on disk, and one whose
 * least format is newer than the running release reads.
 *
 * Read here with a read-only open, so checking never changes the file.
 */
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import type { RowFormat } from '../buffer/codec.js';
import { BUFFER_FORMAT, BUFFER_FORMAT_COMPAT } from '../buffer/sqlite-schema.js';
import { readManifest, MANIFEST, type Manifest } from './manifest.js';

export { BUFFER_FORMAT, BUFFER_FORMAT_COMPAT } from '../buffer/sqlite-schema.js';

/** What this build's release.json declares (deploy/release/build.sh writes the same). */
export const RELEASE_FORMATS = { buffer_format: BUFFER_FORMAT_COMPAT, buffer_reads: BUFFER_FORMAT } as const;

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

/** The newest buffer format release `m` reads. */
export function readsOf(m: Pick<Manifest, 'buffer_format' | 'buffer_reads'>): number {
  return m.buffer_reads ?? m.buffer_format;
}

/**
 * Why updating from a release reading up to `fromReads` to one writing at least
 * `to.buffer_format` and reading up to `readsOf(to)` is unsafe for a buffer currently
 * at `onDisk`; undefined when it is safe.
 */
export function formatProblem(onDisk: number | undefined, fromReads: number, to: Pick<Manifest, 'buffer_format' | 'buffer_reads'>): string | undefined {
  const toReads = readsOf(to);
  if (onDisk !== undefined && onDisk > toReads) return `the buffer on disk is format ${onDisk}; the new release reads at most format ${toReads}`;
  if (to.buffer_format > fromReads)
    return `the new release writes buffer format ${to.buffer_format}, the running one reads at most ${fromReads}: a rollback could not read the buffer (update to a release with format ${fromReads} first, or empty the buffer with \`citygate queue purge\`)`;
  return undefined;
}

/**
 * The row format a gateway running from `root` (the directory holding its code) writes:
 * format 2 unless it runs from an installed release (`<prefix>/releases/<id>` with a
 * release.json) whose `<prefix>/previous` is another release reading only format 1.
 * `why` says so, for the log.
 */
export function rowFormatFor(root: string): { rowFormat: RowFormat; why?: string } {
  const self = realpathSync(root);
  if (!existsSync(join(self, MANIFEST))) return { rowFormat: 2 };
  let target: Manifest;
  try {
    const previous = realpathSync(join(dirname(dirname(self)), 'previous'));
    if (previous === self) return { rowFormat: 2 };
    target = readManifest(previous);
  } catch {
    return { rowFormat: 2 }; // nothing a rollback could return to
  }
  if (readsOf(target) >= BUFFER_FORMAT) return { rowFormat: 2 };
  return {
    rowFormat: 1,
    why: `buffer rows written in format 1: the release a rollback would return to (${target.id}) reads only format ${readsOf(target)}; the next update writes format 2`,
  };
}

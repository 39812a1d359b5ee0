/**
 * Opening the buffer's database on a card that may be full, read-only, damaged or
 * replaced. Every failure names the file, the cause and the remedy; nothing is
 * deleted:
 *
 * - data_dir missing, not writable, or on a read-only mount: an error saying which
 *   and what to do (nothing can be buffered, so the gateway does not start);
 * - disk full while opening (the WAL pragma and the -shm file need room): the
 *   ballast is released and the open tried again;
 * - a file that is not a SQLite database, a damaged one (open or `quick_check`
 *   fails), or someone else's database: moved aside as `buffer.db.damaged-<time>`
 *   (with its -wal/-shm) and a fresh one started; the caller announces the seqs that
 *   may be lost. With `buffer.on_corrupt: refuse` the gateway refuses to start instead.
 */
import type Database from 'better-sqlite3';
import { accessSync, constants, existsSync, renameSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { describeError } from '../core/errors.js';
import { isDiskFull } from './disk-guard.js';
import { openBufferDb, TABLES } from './sqlite-schema.js';
import { ensurePrivateDir } from './private-files.js';
import type { RowFormat } from './codec.js';

export interface OpenOptions {
  dataDir: string;
  synchronous: 'full' | 'normal';
  walCap: number;
  /** The row format this process writes (sqlite-schema.ts). */
  rowFormat: RowFormat;
  onCorrupt: 'move_aside' | 'refuse';
  /** Run `PRAGMA quick_check` (after an unclean shutdown). */
  check: boolean;
  /** Free room on a full disk; true if anything was freed. */
  makeRoom: () => boolean;
}

export interface Opened {
  db: Database.Database;
  file: string;
  /** The database had to be replaced: why, and where the old one went. */
  replaced?: { detail: string; movedTo: string };
}

/** A buffer that cannot be opened: the message says what and what to do. */
export class BufferOpenError extends Error {
  override name = 'BufferOpenError';
}

export function openDatabase(o: OpenOptions): Opened {
  const file = join(o.dataDir, 'buffer.db');
  prepareDataDir(o.dataDir);
  let replaced: Opened['replaced'];
  for (let attempt = 0; ; attempt++) {
    try {
      const db = openBufferDb(file, o.synchronous, o.walCap, o.rowFormat);
      let problem: string | undefined;
      try {
        problem = inspect(db, o.check);
      } catch (err) {
        db.close();
        throw err;
      }
      if (!problem) return { db, file, ...(replaced ? { replaced } : {}) };
      db.close();
      replaced = moveAside(file, problem, o);
    } catch (err) {
      const code = String((err as { code?: unknown }).code ?? '');
      if (isDiskFull(err) && attempt < 2 && o.makeRoom()) continue;
      if (isDiskFull(err)) throw new BufferOpenError(`${file}: cannot open the buffer: the disk is full (${code}) — free space on ${o.dataDir} (df -h ${o.dataDir}; citygate queue stats shows what is waiting)`);
      if (code === 'CITYGATE_FORMAT') throw new BufferOpenError(`${file}: ${describeError(err)} — this is an older citygate than the one that wrote it: update citygate, or move the file aside to start an empty buffer`);
      if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) {
        if (attempt > 2) throw err;
        replaced = moveAside(file, code === 'SQLITE_NOTADB' ? 'not a SQLite database' : `damaged (${code})`, o);
        continue;
      }
      // EACCES / EPERM / EROFS: from creating or tightening the file before SQLite opens it (private-files.ts).
      if (code === 'SQLITE_READONLY' || code.startsWith('SQLITE_CANTOPEN') || code === 'SQLITE_PERM' || code === 'SQLITE_AUTH' || ['EACCES', 'EPERM', 'EROFS'].includes(code)) {
        throw new BufferOpenError(`${file}: cannot open the buffer for writing (${code}) — check that ${o.dataDir} and its files belong to the service user and the file system is mounted read-write`);
      }
      throw new BufferOpenError(`${file}: cannot open the buffer: ${describeError(err)}`);
    }
  }
}

/**
 * Create data_dir (0700) if needed, tighten it to 0700 if it is looser, and check it can
 * be written; a BufferOpenError says what to do. Returns the looser mode it had, if any
 * (the caller logs it).
 */
export function prepareDataDir(dir: string): number | undefined {
  let loosened: number | undefined;
  try {
    loosened = ensurePrivateDir(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? describeError(err);
    if (/^\/(proc|sys|dev)(\/|$)/.test(resolve(dir))) {
      throw new BufferOpenError(`${dir}: cannot create gateway.data_dir (${code}) — /proc, /sys and /dev are the kernel's, not a place for data: use a directory on the card, like /var/lib/citygate`);
    }
    throw new BufferOpenError(`${dir}: cannot create gateway.data_dir (${code}) — create it and give it to the service user (sudo install -d -o citygate -g citygate ${dir})`);
  }
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EROFS') throw new BufferOpenError(`${dir}: the file system is mounted read-only (EROFS) — nothing can be buffered; remount it read-write (a card that turned read-only is failing: replace it)`);
    throw new BufferOpenError(`${dir}: gateway.data_dir is not writable (${code}) — give it to the service user: sudo chown -R citygate:citygate ${dir}`);
  }
  return loosened;
}

/** Why this database cannot be used as our buffer, or undefined if it can. */
function inspect(db: Database.Database, check: boolean): string | undefined {
  const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[]).filter((t) => !t.startsWith('sqlite_'));
  const foreign = tables.filter((t) => !TABLES.includes(t));
  if (foreign.length > 0) return `not a citygate buffer (tables ${foreign.slice(0, 3).join(', ')})`;
  // A truncated file opens, then fails on the first read of a missing page: cheap checks first.
  const pages = Number(db.pragma('page_count', { simple: true }));
  const pageSize = Number(db.pragma('page_size', { simple: true }));
  const onDisk = sizeOf(db.name) + sizeOf(`${db.name}-wal`);
  if (pages * pageSize > onDisk) return `damaged (truncated: ${onDisk} bytes on disk for ${pages} pages)`;
  if (tables.includes('batches')) db.prepare('SELECT count(*), sum(count), max(last_seq) FROM batches').get();
  if (check) {
    const result = db.pragma('quick_check(1)', { simple: true });
    if (result !== 'ok') return `damaged (quick_check: ${String(result)})`;
  }
  return undefined;
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

function moveAside(file: string, detail: string, o: OpenOptions): { detail: string; movedTo: string } {
  if (o.onCorrupt === 'refuse') {
    throw new BufferOpenError(
      `${file}: ${detail} — buffer.on_corrupt is "refuse": move the file aside by hand (mv ${file} ${file}.old) to start an empty buffer, or set buffer.on_corrupt: move_aside`,
    );
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const movedTo = `${file}.damaged-${stamp}`;
  for (const suffix of ['', '-wal', '-shm']) {
    if (existsSync(file + suffix)) renameSync(file + suffix, movedTo + suffix);
  }
  return { detail, movedTo: basename(movedTo) };
}

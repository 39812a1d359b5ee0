/**
 * The buffer's database file: pragmas, tables and prepared statements. Why the
 * pragmas (docs/field-notes.md#wal-and-synchronous, #vacuum-and-chunked-deletes):
 * - `page_size` and `auto_vacuum=INCREMENTAL` only take effect before the first
 *   table exists, so they are the first statements (on an existing file they change
 *   nothing). Every commit writes its pages to the WAL whole, so the page is sized to
 *   a street pole's row: 1 KiB for row format 2 (~740 bytes per 100 readings), 2 KiB
 *   for format 1 (~1,240) (docs/performance.md#disk-writes);
 * - WAL, with `synchronous` FULL (survives power loss after commit) or NORMAL;
 * - the WAL is capped with `journal_size_limit` and checkpointed before it passes
 *   `walCap`, so the files on disk stay inside `max_bytes`.
 * The format is versioned (`user_version`): 1 added `committed_at` on the buffer
 * clock (buffer-time.ts) and event kinds (event-journal.ts); 2 means rows of format 2
 * (codec.ts) may be in the file. The `fmt` column, added to format 1 files too, says
 * which format each row is; releases before format 2 ignore it and write the default,
 * 1, so a format 1 file with the column is still theirs to open.
 * A row's id is its first seq: a plain rowid would be reused once the table empties,
 * and the uplink, reading "rows after id N", would skip the new rows.
 */
import Database from 'better-sqlite3';
import { ensurePrivateFile, tightenFile } from './private-files.js';
import type { RowFormat } from './codec.js';

/**
 * The newest on-disk format this code reads; it writes it too unless a release it may
 * be rolled back to reads only an older one (docs/performance.md#row-format-2).
 */
export const BUFFER_FORMAT = 2;
/** The format it writes then: every release since the buffer clock reads it. */
export const BUFFER_FORMAT_COMPAT = 1;

export const TABLES = ['meta', 'batches', 'events', 'state'];

/** `rowFormat`: the row format this process writes (it sets the file's format and a new file's page size). */
export function openBufferDb(file: string, synchronous: 'full' | 'normal', walCap = 4 * 1024 * 1024, rowFormat: RowFormat = 2): Database.Database {
  // 0600 before SQLite opens it: its -wal and -shm get the same mode (private-files.ts).
  ensurePrivateFile(file);
  for (const suffix of ['-wal', '-shm']) tightenFile(file + suffix);
  const db = new Database(file);
  try {
    configure(db, synchronous, walCap, rowFormat);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

/** Page size of a new buffer file by the row format written (an existing file keeps its own): see the header. */
export const NEW_PAGE_SIZE: Record<RowFormat, number> = { 1: 2048, 2: 1024 };

function configure(db: Database.Database, synchronous: 'full' | 'normal', walCap: number, rowFormat: RowFormat): void {
  db.pragma(`page_size = ${NEW_PAGE_SIZE[rowFormat]}`);
  db.pragma('auto_vacuum = INCREMENTAL');
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma(`journal_size_limit = ${walCap}`);
  const pageSize = Number(db.pragma('page_size', { simple: true }));
  db.pragma(`wal_autocheckpoint = ${Math.max(16, Math.floor(walCap / pageSize / 2))}`);
  db.pragma('busy_timeout = 5000');
  db.exec(`
    CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS batches (
      id INTEGER PRIMARY KEY, -- = first_seq, never reused
      device TEXT NOT NULL,
      first_seq INTEGER NOT NULL,
      last_seq INTEGER NOT NULL,
      count INTEGER NOT NULL,
      committed_at INTEGER NOT NULL,
      bytes INTEGER NOT NULL,
      payload BLOB NOT NULL,
      fmt INTEGER NOT NULL DEFAULT 1
    );
    CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, payload TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  `);
  migrate(db, rowFormat);
}

/** The columns of `table`. */
export function columnsOf(db: Database.Database, table: string): string[] {
  return (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name);
}

function migrate(db: Database.Database, rowFormat: RowFormat): void {
  const version = Number(db.pragma('user_version', { simple: true }));
  if (version > BUFFER_FORMAT) {
    throw Object.assign(new Error(`buffer format ${version} is newer than this citygate understands (${BUFFER_FORMAT})`), { code: 'CITYGATE_FORMAT' });
  }
  // Never lowered: format 2 rows may be in the file whatever this process writes.
  const target = Math.max(version, rowFormat === 2 ? 2 : BUFFER_FORMAT_COMPAT);
  const hasFmt = columnsOf(db, 'batches').includes('fmt');
  if (version === target && hasFmt) return;
  db.transaction(() => {
    if (version < 1) {
      const cols = columnsOf(db, 'events');
      if (!cols.includes('kind')) db.exec("ALTER TABLE events ADD COLUMN kind TEXT NOT NULL DEFAULT 'info'");
      if (!cols.includes('device')) db.exec('ALTER TABLE events ADD COLUMN device TEXT');
      db.exec(`UPDATE events SET kind = 'loss' WHERE json_extract(payload, '$.type') IN ('buffer_dropped', 'buffer_lost', 'buffer_purged', 'events_evicted')`);
      // Format 0 stamped rows with the wall clock: they start the buffer clock's life at age 0.
      db.exec('UPDATE batches SET committed_at = 0');
    }
    // A schema change only (no row is rewritten): existing rows read as format 1.
    if (!hasFmt) db.exec('ALTER TABLE batches ADD COLUMN fmt INTEGER NOT NULL DEFAULT 1');
    db.pragma(`user_version = ${target}`);
  })();
}

/** Rows as `toStoredBatch` takes them. */
export const SELECT_ROWS = 'SELECT id, device, first_seq, last_seq, count, payload, fmt FROM batches';

export function prepareStatements(db: Database.Database) {
  return {
    aggregate: db.prepare('SELECT count(*) AS rows, sum(count) AS readings, sum(bytes) AS bytes, max(last_seq) AS last FROM batches'),
    getMeta: db.prepare('SELECT value FROM meta WHERE key = ?'),
    setMeta: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
    insert: db.prepare(
      'INSERT INTO batches (id, device, first_seq, last_seq, count, committed_at, bytes, payload, fmt) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    read: db.prepare(`${SELECT_ROWS} WHERE id > ? ORDER BY id LIMIT ?`),
    oldestAfter: db.prepare('SELECT id, first_seq, last_seq, count, bytes, committed_at FROM batches WHERE id > ? ORDER BY id LIMIT ?'),
    oldestFirstSeq: db.prepare('SELECT first_seq FROM batches ORDER BY id LIMIT 1'),
    perDevice: db.prepare('SELECT device, sum(count) AS readings, min(first_seq) AS first_seq, max(last_seq) AS last_seq FROM batches GROUP BY device ORDER BY device'),
    deleteUpTo: db.prepare('DELETE FROM batches WHERE id <= ?'),
    deleteOne: db.prepare('DELETE FROM batches WHERE id = ? RETURNING count, bytes, first_seq, last_seq'),
    oldestAt: db.prepare('SELECT committed_at FROM batches ORDER BY id LIMIT 1'),
    /** Rows among a JSON array of ids (acknowledged, not yet deleted). */
    sumOf: db.prepare(
      'SELECT count(*) AS rows, coalesce(sum(count), 0) AS readings, coalesce(sum(bytes), 0) AS bytes FROM batches WHERE id IN (SELECT value FROM json_each(?))',
    ),
    oldestNotIn: db.prepare('SELECT committed_at FROM batches WHERE id NOT IN (SELECT value FROM json_each(?)) ORDER BY id LIMIT 1'),
    getState: db.prepare('SELECT value FROM state WHERE key = ?'),
    setState: db.prepare('INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
    freelist: db.prepare('PRAGMA freelist_count'),
    pageCount: db.prepare('PRAGMA page_count'),
    pageSize: db.prepare('PRAGMA page_size'),
  };
}

/**
 * The buffer's database file: pragmas, tables and prepared statements. Why the
 * pragmas (docs/field-notes.md#wal-and-synchronous, #vacuum-and-chunked-deletes):
 * - `page_size=2048` and `auto_vacuum=INCREMENTAL` only take effect before the first
 *   table exists, so they are the first statements (on an existing file they change
 *   nothing). Every commit writes its pages to the WAL whole: with 2 KiB pages a
 *   street pole's commit writes about half the bytes of 4 KiB pages
 *   (docs/performance.md#disk-writes);
 * - WAL, with `synchronous` FULL (survives power loss after commit) or NORMAL;
 * - the WAL is capped with `journal_size_limit` and checkpointed before it passes
 *   `walCap`, so the files on disk stay inside `max_bytes`.
 * The format is versioned (`user_version`): 1 added `committed_at` on the buffer
 * clock (buffer-time.ts) and event kinds (event-journal.ts).
 * A row's id is its first seq: a plain rowid would be reused once the table empties,
 * and the uplink, reading "rows after id N", would skip the new rows.
 */
import Database from 'better-sqlite3';
import { ensurePrivateFile, tightenFile } from './private-files.js';

/** The on-disk format this code writes and reads. */
export const BUFFER_FORMAT = 1;

export const TABLES = ['meta', 'batches', 'events', 'state'];

export function openBufferDb(file: string, synchronous: 'full' | 'normal', walCap = 4 * 1024 * 1024): Database.Database {
  // 0600 before SQLite opens it: its -wal and -shm get the same mode (private-files.ts).
  ensurePrivateFile(file);
  for (const suffix of ['-wal', '-shm']) tightenFile(file + suffix);
  const db = new Database(file);
  try {
    configure(db, synchronous, walCap);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

/** Page size of a new buffer file (an existing file keeps its own): see the header. */
export const NEW_PAGE_SIZE = 2048;

function configure(db: Database.Database, synchronous: 'full' | 'normal', walCap: number): void {
  db.pragma(`page_size = ${NEW_PAGE_SIZE}`);
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
      payload BLOB NOT NULL
    );
    CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, payload TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  `);
  migrate(db);
}

function migrate(db: Database.Database): void {
  const version = Number(db.pragma('user_version', { simple: true }));
  if (version > BUFFER_FORMAT) {
    throw Object.assign(new Error(`buffer format ${version} is newer than this citygate understands (${BUFFER_FORMAT})`), { code: 'CITYGATE_FORMAT' });
  }
  if (version === BUFFER_FORMAT) return;
  db.transaction(() => {
    const cols = (db.prepare('PRAGMA table_info(events)').all() as { name: string }[]).map((c) => c.name);
    if (!cols.includes('kind')) db.exec("ALTER TABLE events ADD COLUMN kind TEXT NOT NULL DEFAULT 'info'");
    if (!cols.includes('device')) db.exec('ALTER TABLE events ADD COLUMN device TEXT');
    db.exec(`UPDATE events SET kind = 'loss' WHERE json_extract(payload, '$.type') IN ('buffer_dropped', 'buffer_lost', 'buffer_purged', 'events_evicted')`);
    // Format 0 stamped rows with the wall clock: they start the buffer clock's life at age 0.
    db.exec('UPDATE batches SET committed_at = 0');
    db.pragma(`user_version = ${BUFFER_FORMAT}`);
  })();
}

export function prepareStatements(db: Database.Database) {
  return {
    aggregate: db.prepare('SELECT count(*) AS rows, sum(count) AS readings, sum(bytes) AS bytes, max(last_seq) AS last FROM batches'),
    getMeta: db.prepare('SELECT value FROM meta WHERE key = ?'),
    setMeta: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
    insert: db.prepare(
      'INSERT INTO batches (id, device, first_seq, last_seq, count, committed_at, bytes, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    read: db.prepare('SELECT id, device, first_seq, last_seq, count, payload FROM batches WHERE id > ? ORDER BY id LIMIT ?'),
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

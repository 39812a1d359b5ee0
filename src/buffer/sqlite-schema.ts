/**
 * The buffer's database file: pragmas, tables and prepared statements. Why the
 * pragmas (docs/field-notes.md#wal-and-synchronous, #vacuum-and-chunked-deletes):
 * - `auto_vacuum=INCREMENTAL` only takes effect before the first table exists, so it
 *   is the first statement on a new file;
 * - WAL, with `synchronous` FULL (survives power loss after commit) or NORMAL;
 * - the WAL is capped with `journal_size_limit`.
 * A row's id is its first seq: a plain rowid would be reused once the table empties,
 * and the uplink, reading "rows after id N", would skip the new rows.
 */
import Database from 'better-sqlite3';

export function openBufferDb(file: string, synchronous: 'full' | 'normal'): Database.Database {
  const db = new Database(file);
  db.pragma('auto_vacuum = INCREMENTAL');
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma('journal_size_limit = 4194304');
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
  return db;
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
    oldest: db.prepare('SELECT id, first_seq, last_seq, count, bytes, committed_at FROM batches ORDER BY id LIMIT ?'),
    deleteUpTo: db.prepare('DELETE FROM batches WHERE id <= ?'),
    deleteOne: db.prepare('DELETE FROM batches WHERE id = ? RETURNING count, bytes, first_seq, last_seq'),
    oldestAt: db.prepare('SELECT committed_at FROM batches ORDER BY id LIMIT 1'),
    /** Rows among a JSON array of ids (acknowledged, not yet deleted). */
    sumOf: db.prepare(
      'SELECT count(*) AS rows, coalesce(sum(count), 0) AS readings, coalesce(sum(bytes), 0) AS bytes FROM batches WHERE id IN (SELECT value FROM json_each(?))',
    ),
    oldestNotIn: db.prepare('SELECT committed_at FROM batches WHERE id NOT IN (SELECT value FROM json_each(?)) ORDER BY id LIMIT 1'),
    addEvent: db.prepare('INSERT INTO events (payload) VALUES (?)'),
    readEvents: db.prepare('SELECT id, payload FROM events ORDER BY id LIMIT ?'),
    ackEvent: db.prepare('DELETE FROM events WHERE id = ?'),
    countEvents: db.prepare('SELECT count(*) AS n FROM events'),
    trimEvents: db.prepare('DELETE FROM events WHERE id IN (SELECT id FROM events ORDER BY id LIMIT ?)'),
    getState: db.prepare('SELECT value FROM state WHERE key = ?'),
    setState: db.prepare('INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
    freelist: db.prepare('PRAGMA freelist_count'),
    pageCount: db.prepare('PRAGMA page_count'),
  };
}

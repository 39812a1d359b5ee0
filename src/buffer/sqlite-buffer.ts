/**
 * The durable buffer on better-sqlite3 (v12: v13 segfaults on Node 20, FIELD-NOTES).
 *
 * Why it looks like this:
 * - WAL, `synchronous` FULL by default: a commit survives power loss on a card that
 *   honours flush. Group commits (see group-commit.ts) keep that affordable.
 * - `auto_vacuum=INCREMENTAL` must be set before the first table exists, so it is
 *   the first statement on a new file. The WAL is capped with `journal_size_limit`.
 * - A commit touches only the `batches` table: the next `seq` is derived from the
 *   newest row and written to `meta` only when rows are deleted (so an emptied
 *   buffer still remembers it). One page per commit instead of two: less SD wear.
 * - A row's id is its first seq. A plain rowid would be reused once the table
 *   empties, and the uplink, reading "rows after id N", would skip the new rows.
 * - Acknowledged rows are deleted in groups: inside the next commit's transaction
 *   (one fsync for both), or on their own after `ackFlushRows` rows / `ackFlushMs`.
 *   A crash before the group is applied re-sends those rows: duplicates, which
 *   at-least-once allows; never loss. At a street-pole load this halves SD writes.
 */
import Database from 'better-sqlite3';
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Reading } from '../core/reading.js';
import type { StateStore } from '../core/state-store.js';
import type { Clock } from '../core/clock.js';
import type { BufferStats, CommitResult, DurableBuffer, StoredBatch, StoredEvent } from './buffer.js';
import { compress, decompress, readingJson } from './codec.js';

export interface SqliteBufferOptions {
  dataDir: string;
  maxBytes: number;
  maxAgeMs: number;
  onFull: 'drop_oldest' | 'reject_newest';
  synchronous: 'full' | 'normal';
  maxReadingsPerRow: number;
  clock: Clock;
  /** Apply acks on their own once this many rows are pending (default 1000) … */
  ackFlushRows?: number;
  /** … or this long after the first pending ack, if no commit came first (default 30 s). */
  ackFlushMs?: number;
  /** Most events kept waiting; older ones are dropped (and counted). */
  maxEvents?: number;
}

/** Per-row overhead counted against max_bytes besides the payload (row header, columns). */
const ROW_OVERHEAD = 48;

export class SqliteBuffer implements DurableBuffer {
  readonly file: string;
  private readonly db: Database.Database;
  private nextSeq = 1;
  private totalBytes = 0;
  private totalRows = 0;
  private totalReadings = 0;
  private pendingAcks: number[] = [];
  private cancelAckFlush: (() => void) | undefined;
  private droppedTotal = 0;
  private pendingEvents = 0;
  private rejectedTotal = 0;
  readonly state: StateStore;
  private readonly stmt: ReturnType<SqliteBuffer['prepare']>;

  constructor(private readonly opts: SqliteBufferOptions) {
    mkdirSync(opts.dataDir, { recursive: true });
    this.file = join(opts.dataDir, 'buffer.db');
    this.db = new Database(this.file);
    this.db.pragma('auto_vacuum = INCREMENTAL');
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${opts.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    this.db.pragma('journal_size_limit = 4194304');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS batches (
        id INTEGER PRIMARY KEY, -- = first_seq: never reused (a rowid would be, once the table empties)
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
    this.stmt = this.prepare();
    const agg = this.stmt.aggregate.get() as { rows: number; readings: number | null; bytes: number | null; last: number | null };
    const meta = (key: string): number => (this.stmt.getMeta.get(key) as { value: number } | undefined)?.value ?? 0;
    this.nextSeq = Math.max(meta('next_seq'), (agg.last ?? 0) + 1, 1);
    this.totalRows = agg.rows;
    this.totalReadings = agg.readings ?? 0;
    this.totalBytes = agg.bytes ?? 0;
    this.droppedTotal = meta('dropped_total');
    this.pendingEvents = (this.stmt.countEvents.get() as { n: number }).n;
    this.rejectedTotal = meta('rejected_total');
    const stateStmt = { get: this.stmt.getState, set: this.stmt.setState };
    this.state = {
      get<T>(key: string): T | undefined {
        const row = stateStmt.get.get(key) as { value: string } | undefined;
        return row ? (JSON.parse(row.value) as T) : undefined;
      },
      set(key: string, value: unknown): void {
        stateStmt.set.run(key, JSON.stringify(value));
      },
    };
  }

  private prepare() {
    const db = this.db;
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
      deleteOne: db.prepare('DELETE FROM batches WHERE id = ? RETURNING count, bytes, last_seq'),
      oldestAt: db.prepare('SELECT committed_at FROM batches ORDER BY id LIMIT 1'),
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

  commit(readings: readonly Reading[]): CommitResult {
    if (readings.length === 0) return { accepted: 0, rejected: 0, dropped: 0 };
    const start = this.nextSeq;
    const rows = this.encode(readings, start);
    const incoming = rows.reduce((n, r) => n + r.bytes, 0);
    // Acknowledged rows go in the same transaction (one fsync, not two) and before
    // any limit is applied: never drop (and report) what was already delivered.
    const acks = this.takeAcks();
    const run = this.db.transaction((): CommitResult => {
      this.applyAcks(acks);
      let dropped = 0;
      if (this.totalBytes + incoming > this.opts.maxBytes) {
        if (this.opts.onFull === 'reject_newest') {
          this.rejectedTotal += readings.length;
          this.stmt.setMeta.run('rejected_total', this.rejectedTotal);
          this.eventNow({ type: 'buffer_rejected', count: readings.length, reason: 'max_bytes', rejected_total: this.rejectedTotal });
          return { accepted: 0, rejected: readings.length, dropped: 0 };
        }
        dropped = this.dropOldest(this.totalBytes + incoming - this.opts.maxBytes, 'max_bytes');
      }
      const now = this.opts.clock.now();
      for (const r of rows) {
        this.stmt.insert.run(r.firstSeq, r.device, r.firstSeq, r.firstSeq + r.count - 1, r.count, now, r.bytes, r.blob);
      }
      return { accepted: readings.length, firstSeq: start, lastSeq: start + readings.length - 1, rejected: 0, dropped };
    });
    try {
      const result = run.immediate();
      if (result.accepted > 0) {
        this.nextSeq = start + readings.length;
        this.totalRows += rows.length;
        this.totalReadings += readings.length;
        this.totalBytes += incoming;
      }
      return result;
    } catch (err) {
      // The transaction rolled back: restore the in-memory counters from disk.
      this.pendingAcks = acks.concat(this.pendingAcks);
      this.reloadCounters();
      throw err;
    }
  }

  private takeAcks(): number[] {
    this.cancelAckFlush?.();
    this.cancelAckFlush = undefined;
    const ids = this.pendingAcks;
    this.pendingAcks = [];
    return ids;
  }

  /** Delete acknowledged rows (inside a transaction). */
  private applyAcks(ids: readonly number[]): void {
    let newestGone = false;
    for (const id of ids) {
      const gone = this.stmt.deleteOne.get(id) as { count: number; bytes: number; last_seq: number } | undefined;
      if (!gone) continue;
      this.totalRows--;
      this.totalReadings -= gone.count;
      this.totalBytes -= gone.bytes;
      if (gone.last_seq === this.nextSeq - 1) newestGone = true;
    }
    // next_seq is derived from the newest row; only when that row goes must it be
    // written down (so a restart never hands out a seq twice).
    if (newestGone) this.stmt.setMeta.run('next_seq', this.nextSeq);
  }

  /**
   * Group readings by device (keeping order within a device), split into rows of at
   * most maxReadingsPerRow. Seq is assigned row after row, so each row's seq range is
   * contiguous and rows in id order are in seq order.
   */
  private encode(readings: readonly Reading[], startSeq: number) {
    const byDevice = new Map<string, Reading[]>();
    for (const r of readings) {
      let list = byDevice.get(r.device);
      if (!list) byDevice.set(r.device, (list = []));
      list.push(r);
    }
    const max = this.opts.maxReadingsPerRow;
    const rows: { device: string; firstSeq: number; count: number; bytes: number; blob: Buffer }[] = [];
    let seq = startSeq;
    for (const [device, list] of byDevice) {
      for (let i = 0; i < list.length; i += max) {
        const chunk = list.slice(i, i + max);
        const firstSeq = seq;
        const blob = compress(chunk.map((r, k) => readingJson(r, firstSeq + k)).join(','));
        seq += chunk.length;
        rows.push({ device, firstSeq, count: chunk.length, bytes: blob.length + ROW_OVERHEAD, blob });
      }
    }
    return rows;
  }

  /** Delete oldest rows until at least `needBytes` are freed; records the event. */
  private dropOldest(needBytes: number, reason: 'max_bytes' | 'max_age', olderThan?: number): number {
    let freed = 0;
    let dropped = 0;
    let firstSeq: number | undefined;
    let lastSeq: number | undefined;
    let lastId: number | undefined;
    for (;;) {
      const batch = this.stmt.oldest.all(500) as {
        id: number;
        first_seq: number;
        last_seq: number;
        count: number;
        bytes: number;
        committed_at: number;
      }[];
      if (batch.length === 0) break;
      let done = false;
      for (const row of batch) {
        if (olderThan !== undefined ? row.committed_at >= olderThan : freed >= needBytes) {
          done = true;
          break;
        }
        firstSeq ??= row.first_seq;
        lastSeq = row.last_seq;
        lastId = row.id;
        freed += row.bytes;
        dropped += row.count;
        this.totalRows--;
        this.totalReadings -= row.count;
        this.totalBytes -= row.bytes;
      }
      if (lastId !== undefined) this.stmt.deleteUpTo.run(lastId);
      if (done || batch.length < 500) break;
    }
    if (dropped > 0 && firstSeq !== undefined && lastSeq !== undefined) {
      this.droppedTotal += dropped;
      this.stmt.setMeta.run('dropped_total', this.droppedTotal);
      this.stmt.setMeta.run('next_seq', this.nextSeq);
      this.pendingAcks = this.pendingAcks.filter((id) => id > (lastId ?? 0));
      this.eventNow({ type: 'buffer_dropped', reason, first_seq: firstSeq, last_seq: lastSeq, count: dropped, dropped_total: this.droppedTotal });
    }
    return dropped;
  }

  private eventNow(body: Record<string, unknown>): void {
    this.stmt.addEvent.run(JSON.stringify({ ...body, ts: this.opts.clock.now() }));
    this.pendingEvents++;
    const max = this.opts.maxEvents ?? 10_000;
    if (this.pendingEvents > max) {
      this.stmt.trimEvents.run(this.pendingEvents - max);
      this.pendingEvents = max;
    }
  }

  read(afterId: number, limit: number): StoredBatch[] {
    const rows = this.stmt.read.all(afterId, limit) as {
      id: number;
      device: string;
      first_seq: number;
      last_seq: number;
      count: number;
      payload: Buffer;
    }[];
    return rows.map((r) => ({
      id: r.id,
      device: r.device,
      firstSeq: r.first_seq,
      lastSeq: r.last_seq,
      count: r.count,
      json: decompress(r.payload),
    }));
  }

  ack(ids: readonly number[]): void {
    if (ids.length === 0) return;
    if (this.pendingAcks.length === 0 && !this.cancelAckFlush) {
      this.cancelAckFlush = this.opts.clock.setTimer(this.opts.ackFlushMs ?? 30_000, () => {
        this.cancelAckFlush = undefined;
        if (this.db.open) this.flushAcks();
      });
    }
    for (const id of ids) this.pendingAcks.push(id);
    if (this.pendingAcks.length >= (this.opts.ackFlushRows ?? 1000)) this.flushAcks();
  }

  flushAcks(): void {
    const ids = this.takeAcks();
    if (ids.length === 0) return;
    try {
      this.db.transaction(() => this.applyAcks(ids)).immediate();
    } catch (err) {
      this.pendingAcks = ids.concat(this.pendingAcks);
      this.reloadCounters();
      throw err;
    }
    this.maybeVacuum();
  }

  /** Hand free pages back to the filesystem only when they dwarf the live data. */
  private maybeVacuum(): void {
    const free = Number(this.stmt.freelist.pluck().get());
    const pages = Number(this.stmt.pageCount.pluck().get());
    if (free > 1024 && free > (pages - free) * 2) this.db.pragma('incremental_vacuum(2048)');
  }

  expire(): number {
    const oldest = this.stmt.oldestAt.get() as { committed_at: number } | undefined;
    const cutoff = this.opts.clock.now() - this.opts.maxAgeMs;
    if (!oldest || oldest.committed_at >= cutoff) return 0;
    return this.db.transaction(() => this.dropOldest(0, 'max_age', cutoff)).immediate();
  }

  addEvent(payload: object): void {
    this.eventNow(payload as Record<string, unknown>);
  }

  readEvents(limit: number): StoredEvent[] {
    return this.stmt.readEvents.all(limit) as StoredEvent[];
  }

  ackEvent(id: number): void {
    if (this.stmt.ackEvent.run(id).changes > 0) this.pendingEvents--;
  }

  hasEvents(): boolean {
    return this.pendingEvents > 0;
  }

  /**
   * What is waiting for delivery. Rows already acknowledged but not yet deleted
   * (their delete rides on the next commit) do not count.
   */
  stats(): BufferStats {
    let acked = { rows: 0, readings: 0, bytes: 0 };
    if (this.pendingAcks.length > 0) {
      const ids = JSON.stringify(this.pendingAcks);
      acked = this.db
        .prepare('SELECT count(*) AS rows, coalesce(sum(count), 0) AS readings, coalesce(sum(bytes), 0) AS bytes FROM batches WHERE id IN (SELECT value FROM json_each(?))')
        .get(ids) as typeof acked;
    }
    const oldest = (
      this.pendingAcks.length > 0
        ? this.db.prepare('SELECT committed_at FROM batches WHERE id NOT IN (SELECT value FROM json_each(?)) ORDER BY id LIMIT 1').get(JSON.stringify(this.pendingAcks))
        : this.stmt.oldestAt.get()
    ) as { committed_at: number } | undefined;
    let fileBytes = 0;
    for (const suffix of ['', '-wal']) {
      try {
        fileBytes += statSync(this.file + suffix).size;
      } catch {
        // no WAL yet
      }
    }
    return {
      rows: this.totalRows - acked.rows,
      readings: this.totalReadings - acked.readings,
      bytes: this.totalBytes - acked.bytes,
      oldestCommittedAt: oldest?.committed_at ?? null,
      nextSeq: this.nextSeq,
      droppedTotal: this.droppedTotal,
      rejectedTotal: this.rejectedTotal,
      pendingEvents: this.pendingEvents,
      fileBytes,
    };
  }

  /** Readings waiting per device (for `citygate queue stats`). */
  perDevice(): { device: string; readings: number; first_seq: number; last_seq: number }[] {
    return this.db
      .prepare('SELECT device, sum(count) AS readings, min(first_seq) AS first_seq, max(last_seq) AS last_seq FROM batches GROUP BY device ORDER BY device')
      .all() as { device: string; readings: number; first_seq: number; last_seq: number }[];
  }

  /**
   * Delete buffered readings (all, or one device's) in chunks, yielding between
   * chunks so a running process keeps breathing. The purge is recorded as an event
   * naming what went: deliberate loss is still never silent.
   */
  async purge(opts: { device?: string; chunk?: number; onProgress?: (done: number) => void } = {}): Promise<number> {
    const chunk = opts.chunk ?? 5000;
    const select = opts.device
      ? this.db.prepare('SELECT id, first_seq, last_seq, count, bytes FROM batches WHERE device = ? ORDER BY id LIMIT ?')
      : this.db.prepare('SELECT id, first_seq, last_seq, count, bytes FROM batches ORDER BY id LIMIT ?');
    let done = 0;
    let first: number | undefined;
    let last: number | undefined;
    for (;;) {
      const rows = (opts.device ? select.all(opts.device, chunk) : select.all(chunk)) as {
        id: number;
        first_seq: number;
        last_seq: number;
        count: number;
        bytes: number;
      }[];
      if (rows.length === 0) break;
      this.db.transaction(() => {
        for (const r of rows) {
          this.stmt.deleteOne.run(r.id);
          first = Math.min(first ?? r.first_seq, r.first_seq);
          last = Math.max(last ?? r.last_seq, r.last_seq);
          done += r.count;
          this.totalRows--;
          this.totalReadings -= r.count;
          this.totalBytes -= r.bytes;
        }
        this.stmt.setMeta.run('next_seq', this.nextSeq);
      }).immediate();
      opts.onProgress?.(done);
      await new Promise((r) => setImmediate(r));
    }
    if (done > 0) {
      this.eventNow({ type: 'buffer_purged', first_seq: first, last_seq: last, count: done, ...(opts.device ? { device: opts.device } : {}) });
      this.db.pragma('incremental_vacuum');
    }
    return done;
  }

  private reloadCounters(): void {
    const agg = this.stmt.aggregate.get() as { rows: number; readings: number | null; bytes: number | null; last: number | null };
    this.totalRows = agg.rows;
    this.totalReadings = agg.readings ?? 0;
    this.totalBytes = agg.bytes ?? 0;
    const meta = (this.stmt.getMeta.get('next_seq') as { value: number } | undefined)?.value ?? 0;
    this.nextSeq = Math.max(meta, (agg.last ?? 0) + 1, 1);
  }

  close(): void {
    if (!this.db.open) return;
    this.flushAcks();
    this.db.close();
  }
}

/**
 * The durable buffer on better-sqlite3 (v12: v13 segfaults on Node 20, FIELD-NOTES).
 *
 * Why it looks like this:
 * - WAL, `synchronous` FULL by default: a commit survives power loss on a card that
 *   honours flush. Group commits (see group-commit.ts) keep that affordable.
 * - The file, its pragmas and statements: sqlite-schema.ts.
 * - A commit touches only the `batches` table: the next `seq` is derived from the
 *   newest row and written to `meta` only when rows are deleted (so an emptied
 *   buffer still remembers it). One page per commit instead of two: less SD wear.
 * - Acknowledged rows are deleted in groups: inside the next commit's transaction
 *   (one fsync for both), or on their own after `ackFlushRows` rows / `ackFlushMs`.
 *   A crash before the group is applied re-sends those rows: duplicates, which
 *   at-least-once allows; never loss. At a street-pole load this halves SD writes.
 */
import type Database from 'better-sqlite3';
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Reading } from '../core/reading.js';
import type { StateStore } from '../core/state-store.js';
import type { Clock } from '../core/clock.js';
import type { BufferStats, CommitResult, DurableBuffer, StoredBatch, StoredEvent } from './buffer.js';
import { decompress, encodeRows } from './codec.js';
import { openBufferDb, prepareStatements } from './sqlite-schema.js';

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
  /** Told of every event once it is stored (the status page's "last events"); must not throw. */
  onEvent?: (event: Record<string, unknown>) => void;
}


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
  private readonly stmt: ReturnType<typeof prepareStatements>;

  constructor(private readonly opts: SqliteBufferOptions) {
    mkdirSync(opts.dataDir, { recursive: true });
    this.file = join(opts.dataDir, 'buffer.db');
    this.db = openBufferDb(this.file, opts.synchronous);
    this.stmt = prepareStatements(this.db);
    this.loadCounters();
    const meta = (key: string): number => (this.stmt.getMeta.get(key) as { value: number } | undefined)?.value ?? 0;
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

  commit(readings: readonly Reading[]): CommitResult {
    if (readings.length === 0) return { accepted: 0, rejected: 0, dropped: 0 };
    const start = this.nextSeq;
    const rows = encodeRows(readings, start, this.opts.maxReadingsPerRow);
    const incoming = rows.reduce((n, r) => n + r.bytes, 0);
    // Acknowledged rows go in the same transaction (one fsync, not two) and before
    // any limit is applied: never drop (and report) what was already delivered.
    const acks = this.takeAcks();
    const run = this.db.transaction((): CommitResult => {
      this.deleteRows(acks);
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
      this.loadCounters();
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

  /**
   * Delete rows by id (inside a transaction) and keep the counters right. next_seq
   * is derived from the newest row; only when that row goes must it be written down
   * (so a restart never hands out a seq twice).
   */
  private deleteRows(ids: readonly number[]): { readings: number; firstSeq?: number; lastSeq?: number } {
    let readings = 0;
    let firstSeq: number | undefined;
    let lastSeq: number | undefined;
    let newestGone = false;
    for (const id of ids) {
      const gone = this.stmt.deleteOne.get(id) as { count: number; bytes: number; first_seq: number; last_seq: number } | undefined;
      if (!gone) continue;
      this.totalRows--;
      this.totalReadings -= gone.count;
      this.totalBytes -= gone.bytes;
      readings += gone.count;
      firstSeq = Math.min(firstSeq ?? gone.first_seq, gone.first_seq);
      lastSeq = Math.max(lastSeq ?? gone.last_seq, gone.last_seq);
      if (gone.last_seq === this.nextSeq - 1) newestGone = true;
    }
    if (newestGone) this.stmt.setMeta.run('next_seq', this.nextSeq);
    return { readings, ...(firstSeq !== undefined ? { firstSeq } : {}), ...(lastSeq !== undefined ? { lastSeq } : {}) };
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
    const event = { ...body, ts: this.opts.clock.now() };
    this.stmt.addEvent.run(JSON.stringify(event));
    this.opts.onEvent?.(event);
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
      this.db.transaction(() => this.deleteRows(ids)).immediate();
    } catch (err) {
      this.pendingAcks = ids.concat(this.pendingAcks);
      this.loadCounters();
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
    const ids = this.pendingAcks.length > 0 ? JSON.stringify(this.pendingAcks) : undefined;
    const acked = ids ? (this.stmt.sumOf.get(ids) as { rows: number; readings: number; bytes: number }) : { rows: 0, readings: 0, bytes: 0 };
    const oldest = (ids ? this.stmt.oldestNotIn.get(ids) : this.stmt.oldestAt.get()) as { committed_at: number } | undefined;
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
      ? this.db.prepare('SELECT id FROM batches WHERE device = ? ORDER BY id LIMIT ?').pluck()
      : this.db.prepare('SELECT id FROM batches ORDER BY id LIMIT ?').pluck();
    let done = 0;
    let first: number | undefined;
    let last: number | undefined;
    for (;;) {
      const ids = (opts.device ? select.all(opts.device, chunk) : select.all(chunk)) as number[];
      if (ids.length === 0) break;
      const gone = this.db.transaction(() => this.deleteRows(ids)).immediate();
      done += gone.readings;
      if (gone.firstSeq !== undefined) first = Math.min(first ?? gone.firstSeq, gone.firstSeq);
      if (gone.lastSeq !== undefined) last = Math.max(last ?? gone.lastSeq, gone.lastSeq);
      opts.onProgress?.(done);
      await new Promise((r) => setImmediate(r));
    }
    if (done > 0) {
      this.eventNow({ type: 'buffer_purged', first_seq: first, last_seq: last, count: done, ...(opts.device ? { device: opts.device } : {}) });
      this.db.pragma('incremental_vacuum');
    }
    return done;
  }

  /** Counters from disk: at open, and after a transaction rolled back. */
  private loadCounters(): void {
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

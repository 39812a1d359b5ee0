/**
 * The durable buffer on better-sqlite3 (v12: v13 segfaults on Node 20,
 * docs/field-notes.md#better-sqlite3-version). See buffer.ts for the contract. Here:
 * the parts put together, and where each transaction begins and ends.
 *
 * Why it looks like this:
 * - WAL, `synchronous` FULL by default: a commit survives power loss on a card that
 *   honours flush. Group commits (group-commit.ts) keep that affordable.
 * - Opening on a damaged, foreign, missing or full database: open-db.ts; where seq
 *   restarts and what is announced: startup.ts, start-losses.ts, the seq ledger.
 * - A commit touches only the `batches` table: the next `seq` is derived from the
 *   newest row. `meta.next_seq` is written only by a transaction that deletes the newest
 *   row and inserts none (acks applied on their own, drops, purge): a commit that
 *   deletes the acknowledged rows inserts newer ones in the same transaction, so the
 *   database still knows where seq is without the extra page (docs/performance.md).
 * - Acknowledged rows are deleted in groups (acks.ts): inside the next commit's
 *   transaction, or on their own after `ackFlushRows` rows / `ackFlushMs`. A crash
 *   before that re-sends them: duplicates, which at-least-once allows; never loss.
 * - Counters change only after their transaction committed (tally.ts): a rolled-back
 *   transaction (disk full) leaves them as the disk has them.
 * - Limits: space.ts says how much must go, drops.ts drops it and announces it.
 * - Disk full (disk-guard.ts): the ballast is released, the overflow policy makes
 *   room, and the commit is tried once more; it throws only when even that fails.
 *   Readings the group committer then cannot keep are handed to `skip()`: they get
 *   seqs and an announcement like any other drop.
 * - Ages are measured on the buffer clock (buffer-time.ts), never as wall-clock
 *   differences.
 */
import type Database from 'better-sqlite3';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Reading } from '../core/reading.js';
import type { StateStore } from '../core/state-store.js';
import type { DropReason, EventBody } from '../core/payloads.js';
import type { BufferStats, CommitResult, DurableBuffer, StoredBatch, StoredEvent } from './buffer.js';
import { encodeRows, storedBatch, type RowData, type RowFormat } from './codec.js';
import { prepareStatements } from './sqlite-schema.js';
import { SeqLedger } from './seq-ledger.js';
import { RowStore, type Statements } from './row-store.js';
import { announceLoss, dropOldest, purgeRows } from './drops.js';
import { announceStartLosses } from './start-losses.js';
import { AckQueue, applyAcks } from './acks.js';
import { bufferFileBytes, overBy, walCapFor } from './space.js';
import { bufferStats } from './buffer-stats.js';
import { stateTable } from './state-table.js';
import { EventJournal } from './event-journal.js';
import { DiskGuard, isDiskFull } from './disk-guard.js';
import { openDatabase } from './open-db.js';
import { decideStart } from './startup.js';
import { BufferTime, type BufferTimeSaved, type TimeSources } from './buffer-time.js';
import { Tally } from './tally.js';
import { checkWal } from './wal-check.js';
import type { SqliteBufferOptions } from './sqlite-buffer-options.js';

export type { SqliteBufferOptions } from './sqlite-buffer-options.js';

function readIfThere(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch {
    return Buffer.alloc(0);
  }
}

const BT_KEY = '_buffer_time';

export class SqliteBuffer implements DurableBuffer {
  readonly file: string;
  readonly disk: DiskGuard;
  readonly events: EventJournal;
  readonly state: StateStore;
  private readonly db: Database.Database;
  private readonly stmt: Statements;
  private readonly rows: RowStore;
  private readonly acks: AckQueue;
  private readonly ledger: SeqLedger;
  private readonly time: BufferTime;
  private readonly walCap: number;
  private readonly rowFormat: RowFormat;
  private diskFailing = false;
  private readonly bootIdSource: TimeSources['bootIdSource'];

  constructor(private readonly opts: SqliteBufferOptions) {
    this.acks = new AckQueue(opts, () => {
      if (this.db.open) this.flushAcks();
    });
    this.walCap = walCapFor(opts.maxBytes);
    this.rowFormat = opts.rowFormat ?? 2;
    this.disk = new DiskGuard({ dataDir: opts.dataDir, maxBytes: opts.maxBytes, ...(opts.reserveBytes !== undefined ? { reserveBytes: opts.reserveBytes } : {}) });
    this.file = join(opts.dataDir, 'buffer.db');
    const dbExisted = existsSync(this.file);
    const walDamaged = checkWal(readIfThere(`${this.file}-wal`)) === 'damaged';
    const timeSources = opts.time ?? { mono: () => opts.clock.mono(), wall: () => opts.clock.now(), bootId: 'clock' };
    this.bootIdSource = timeSources.bootIdSource;
    this.ledger = new SeqLedger(opts.dataDir, opts.seqBlock ?? 1000, timeSources.bootId);
    const opened = openDatabase({
      dataDir: opts.dataDir,
      synchronous: opts.synchronous,
      walCap: this.walCap,
      rowFormat: this.rowFormat,
      onCorrupt: opts.onCorrupt ?? 'move_aside',
      check: dbExisted && (!this.ledger.found?.clean || walDamaged),
      makeRoom: () => this.disk.releaseForOpen(),
    });
    this.db = opened.db;
    try {
      this.ledger.open();
    } catch (err) {
      if (!isDiskFull(err) || !this.disk.releaseForOpen()) throw err;
      this.ledger.open();
    }
    this.stmt = prepareStatements(this.db);
    this.events = new EventJournal(this.db, {
      now: () => opts.clock.now(),
      ledger: this.ledger,
      ...(opts.maxEvents !== undefined ? { maxInfo: opts.maxEvents } : {}),
      ...(opts.onEvent ? { onEvent: opts.onEvent } : {}),
    });
    this.rows = new RowStore(this.db, this.stmt, this.events);
    this.state = stateTable(this.stmt);
    // Seqs skipped while the disk was full are in the ledger, not the database.
    const pending = this.ledger.found?.pending ?? [];
    const dbNext = Math.max(this.rows.loadCounters(), ...pending.map((p) => p.last_seq + 1));
    const start = decideStart({
      dbNext,
      ledger: this.ledger.found,
      dbExisted,
      replaced: Boolean(opened.replaced),
      walDamaged,
      sameBoot: this.ledger.found?.boot === timeSources.bootId && timeSources.bootId !== 'unknown',
      synchronous: opts.synchronous,
      ...(this.ledger.damaged !== undefined ? { ledgerDamagedWindow: this.ledger.lostWindow } : {}),
    });
    this.rows.nextSeq = start.nextSeq;
    // The database learns where seq went, so the next open agrees with the ledger.
    if (this.rows.nextSeq > dbNext) this.rows.writeMeta('next_seq', this.rows.nextSeq, true);
    this.time = new BufferTime(timeSources, this.state.get<BufferTimeSaved>(BT_KEY));
    this.ledger.reserve(this.rows.nextSeq, this.rows.floor());
    announceStartLosses(this.rows, { pending, start, ledger: this.ledger, replaced: opened.replaced, walDamaged });
    this.replaced = opened.replaced;
    this.saveTime();
    this.disk.ensureBallast();
  }

  /** The database had to be moved aside at open: why and where. */
  readonly replaced: { detail: string; movedTo: string } | undefined;

  commit(readings: readonly Reading[]): CommitResult {
    if (readings.length === 0) return { accepted: 0, rejected: 0, dropped: 0 };
    try {
      return this.tryCommit(readings);
    } catch (err) {
      if (!isDiskFull(err)) throw err;
      this.setDiskFailing(true);
      // Make room (ballast, then the overflow policy) and try once more.
      this.disk.releaseBallast();
      if (this.opts.onFull === 'drop_oldest') this.freeRoom(Math.max(this.rows.t.bytes / 10, 64 * 1024), 'disk_full');
      this.checkpoint();
      const r = this.tryCommit(readings);
      return r;
    }
  }

  private tryCommit(readings: readonly Reading[]): CommitResult {
    const t = this.rows.t;
    const start = this.rows.nextSeq;
    const rows = encodeRows(readings, start, this.opts.maxReadingsPerRow, this.rowFormat);
    const incoming = rows.reduce((n, r) => n + r.bytes, 0);
    // Reserve ahead: ten commits (~1 s at the default interval) with synchronous=normal,
    // where a reboot after a crash announces the unused rest of the reservation; a hundred
    // with full, where a crash restarts from the database and the rest is simply used
    // (startup.ts). Each move is a 4 KiB write: on a street pole, every 100 s with ten,
    // every 17 minutes with a hundred (docs/performance.md#disk-writes).
    this.ledger.reserve(start + readings.length, this.rows.floor(), readings.length * (this.opts.synchronous === 'full' ? 100 : 10));
    // Acknowledged rows go in the same transaction (one fsync, not two) and before
    // any limit is applied: never drop (and report) what was already delivered.
    const acks = this.acks.take();
    const delta = new Tally();
    const run = this.db.transaction((): CommitResult => {
      this.rows.deleteRows(acks, delta);
      const over = overBy({ stored: t.bytes + delta.bytes, incoming, maxBytes: this.opts.maxBytes, walCap: this.walCap, stmt: this.stmt, disk: this.disk, fileBytes: () => this.fileBytes() });
      let dropped = 0;
      if (over.bytes > 0) {
        if (this.opts.onFull === 'reject_newest') {
          delta.rejectedTotal += readings.length;
          this.rows.writeMeta('rejected_total', t.rejectedTotal + delta.rejectedTotal);
          this.events.write({ type: 'buffer_rejected', count: readings.length, reason: over.reason, rejected_total: t.rejectedTotal + delta.rejectedTotal });
          this.rows.settleSeqMeta(delta);
          return { accepted: 0, rejected: readings.length, dropped: 0 };
        }
        dropped = dropOldest(this.rows, over.bytes, over.reason, delta);
      }
      const now = this.time.now();
      for (const r of rows) {
        this.stmt.insert.run(r.firstSeq, r.device, r.firstSeq, r.firstSeq + r.count - 1, r.count, now, r.bytes, r.blob, r.fmt);
      }
      // The newest row now ends at start + readings.length - 1: it says where seq is.
      delta.seqMetaDue = false;
      delta.add({ rows: rows.length, readings: readings.length, bytes: incoming });
      for (const r of readings) delta.countAccepted(r.quality);
      return { accepted: readings.length, firstSeq: start, lastSeq: start + readings.length - 1, rejected: 0, dropped };
    });
    let result: CommitResult;
    try {
      result = run.immediate();
    } catch (err) {
      // Rolled back: the counters were never touched; the acks wait for the next try.
      this.acks.putBack(acks);
      this.events.reload();
      throw err;
    }
    t.apply(delta);
    this.acks.dropUpTo(delta.droppedUpToId);
    if (result.accepted > 0) this.rows.nextSeq = start + readings.length;
    if (this.diskFailing) this.setDiskFailing(false);
    this.afterWrite();
    return result;
  }

  /** After a successful write: events waiting in memory go to disk. */
  private afterWrite(): void {
    if (this.events.inMemory > 0) {
      try {
        this.events.flushMemory();
      } catch {
        // still full: they stay in memory (and the ledger)
      }
    }
  }

  /** On a full disk: drop the oldest rows worth `bytes` in their own transaction. */
  private freeRoom(bytes: number, reason: DropReason): void {
    try {
      this.dropOnItsOwn(bytes, reason);
    } catch {
      this.events.reload();
    }
  }

  /** Drop the oldest rows (drops.ts) in a transaction of their own; counters and acks follow once it committed. */
  private dropOnItsOwn(needBytes: number, reason: DropReason, olderThan?: number): number {
    const delta = new Tally();
    const n = this.db
      .transaction(() => {
        const dropped = dropOldest(this.rows, needBytes, reason, delta, olderThan);
        this.rows.settleSeqMeta(delta);
        return dropped;
      })
      .immediate();
    this.rows.t.apply(delta);
    this.acks.dropUpTo(delta.droppedUpToId);
    return n;
  }

  private checkpoint(): void {
    try {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      // a reader holds the WAL, or the disk is still full: the next one will do
    }
  }

  /**
   * Readings the gateway could not keep (the disk failed and memory is full): they
   * get the next seqs, as if committed and dropped at once, and are announced with
   * reason `disk_full` — through the ledger if the database cannot take it.
   */
  skip(count: number, reason: DropReason): { firstSeq: number; lastSeq: number } {
    const firstSeq = this.rows.nextSeq;
    const lastSeq = firstSeq + count - 1;
    this.ledger.reserve(lastSeq + 1, this.rows.floor());
    this.rows.nextSeq = lastSeq + 1;
    this.rows.t.countDrop(reason, count);
    announceLoss(this.rows, firstSeq, lastSeq, reason);
    return { firstSeq, lastSeq };
  }

  /** Readings refused (reject_newest with the disk failing): counted and announced, no seq. */
  reject(count: number, reason: 'max_bytes' | 'disk_full'): void {
    this.rows.t.rejectedTotal += count;
    this.rows.writeMeta('rejected_total', this.rows.t.rejectedTotal, true);
    this.events.emit({ type: 'buffer_rejected', reason, count, rejected_total: this.rows.t.rejectedTotal });
  }

  read(afterId: number, limit: number): StoredBatch[] {
    return (this.stmt.read.all(afterId, limit) as RowData[]).map(storedBatch);
  }

  ack(ids: readonly number[]): void {
    if (ids.length === 0) return;
    if (this.acks.add(ids)) this.flushAcks();
  }

  /** Never throws: on failure (disk full) the acks wait for the next try; rows are sent again at worst. */
  flushAcks(): boolean {
    return applyAcks(this.rows, this.acks, this.opts, (err) => {
      if (isDiskFull(err)) this.setDiskFailing(true);
    });
  }

  /** Drop rows older than max_age (on the buffer clock); also saves the buffer clock. */
  expire(): number {
    this.saveTime();
    const oldest = this.stmt.oldestAt.get() as { committed_at: number } | undefined;
    const cutoff = this.time.now() - this.opts.maxAgeMs;
    if (!oldest || oldest.committed_at >= cutoff) return 0;
    return this.dropOnItsOwn(0, 'max_age', cutoff);
  }

  /** Periodic care: disk state, ballast, pending events (called by the expiry tick). */
  maintain(): void {
    if (!this.diskFailing) this.disk.ensureBallast();
    this.afterWrite();
  }

  private saveTime(): void {
    try {
      this.state.set(BT_KEY, this.time.snapshot());
    } catch {
      // disk full: saved next time; within a boot the monotonic clock carries on anyway
    }
  }

  /** Health reads it as `disk: full`; the gateway announces the change (disk_state). */
  private setDiskFailing(failing: boolean): void {
    this.diskFailing = failing;
    this.disk.setFailing(failing);
  }

  addEvent(payload: EventBody): void {
    this.events.emit(payload);
  }

  readEvents(limit: number): StoredEvent[] {
    return this.events.list(limit);
  }

  ackEvent(id: number): void {
    this.events.ack(id);
  }

  hasEvents(): boolean {
    return this.events.waiting > 0;
  }

  /** The buffer's files on disk: database, WAL, shared memory, ledger, ballast. */
  fileBytes(): number {
    return bufferFileBytes(this.file, this.opts.dataDir, this.disk);
  }

  /** What is waiting for delivery; rows acknowledged but not yet deleted do not count. */
  stats(): BufferStats {
    return bufferStats(this.rows, this.acks.waiting, { time: this.time, disk: this.disk, fileBytes: () => this.fileBytes(), bootIdSource: this.bootIdSource });
  }

  /** Readings waiting per device (for `citygate queue stats`). */
  perDevice(): { device: string; readings: number; first_seq: number; last_seq: number }[] {
    return this.stmt.perDevice.all() as { device: string; readings: number; first_seq: number; last_seq: number }[];
  }

  /**
   * Delete buffered readings (all, or one device's) in chunks, yielding between
   * chunks. Recorded as an event naming what went: deliberate loss is never silent.
   */
  purge(opts: { device?: string; chunk?: number; onProgress?: (done: number) => void } = {}): Promise<number> {
    return purgeRows(this.rows, opts);
  }

  close(): void {
    if (!this.db.open) return;
    this.flushAcks();
    this.saveTime();
    this.rows.writeMeta('next_seq', this.rows.nextSeq, true);
    this.checkpoint();
    const floor = this.rows.floor();
    this.db.close();
    try {
      this.ledger.close(this.rows.nextSeq, floor);
    } catch (err) {
      this.opts.onFault?.('closing the seq ledger', err);
    }
  }
}

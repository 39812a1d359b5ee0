/**
 * The durable buffer on better-sqlite3 (v12: v13 segfaults on Node 20,
 * docs/field-notes.md#better-sqlite3-version). See buffer.ts for the contract.
 *
 * Why it looks like this:
 * - WAL, `synchronous` FULL by default: a commit survives power loss on a card that
 *   honours flush. Group commits (group-commit.ts) keep that affordable.
 * - Opening on a damaged, foreign, missing or full database: open-db.ts; where seq
 *   restarts and what is announced about it: startup.ts and the seq ledger.
 * - A commit touches only the `batches` table: the next `seq` is derived from the
 *   newest row. `meta.next_seq` is written only by a transaction that deletes the newest
 *   row and inserts none (acks applied on their own, drops, purge): a commit that
 *   deletes the acknowledged rows inserts newer ones in the same transaction, so the
 *   database still knows where seq is without the extra page (docs/performance.md).
 * - Acknowledged rows are deleted in groups: inside the next commit's transaction,
 *   or on their own after `ackFlushRows` rows / `ackFlushMs`. A crash before that
 *   re-sends them: duplicates, which at-least-once allows; never loss.
 * - Counters change only after their transaction committed: a rolled-back
 *   transaction (disk full) leaves them as the disk has them.
 * - Disk full (disk-guard.ts): the ballast is released, the overflow policy makes
 *   room, and the commit is tried once more; it throws only when even that fails.
 *   Readings the group committer then cannot keep are handed to `skip()`: they get
 *   seqs and an announcement like any other drop.
 * - Ages are measured on the buffer clock (buffer-time.ts), never as wall-clock
 *   differences.
 */
import type Database from 'better-sqlite3';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Reading } from '../core/reading.js';
import type { StateStore } from '../core/state-store.js';
import type { Clock } from '../core/clock.js';
import type { DropReason, EventBody } from '../core/payloads.js';
import type { BufferStats, CommitResult, DurableBuffer, StoredBatch, StoredEvent } from './buffer.js';
import { decompress, encodeRows } from './codec.js';
import { prepareStatements } from './sqlite-schema.js';
import { SeqLedger, LEDGER_FILE } from './seq-ledger.js';
import { EventJournal } from './event-journal.js';
import { DiskGuard, isDiskFull } from './disk-guard.js';
import { openDatabase } from './open-db.js';
import { decideStart } from './startup.js';
import { BufferTime, type BufferTimeSaved, type TimeSources } from './buffer-time.js';
import { Tally, type RowGone } from './tally.js';
import { checkWal } from './wal-check.js';

function readIfThere(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch {
    return Buffer.alloc(0);
  }
}

/** Most separate ranges one drop announces (beyond, the last range spans the rest, as before). */
const MAX_DROP_RUNS = 32;

export interface SqliteBufferOptions {
  dataDir: string;
  maxBytes: number;
  maxAgeMs: number;
  onFull: 'drop_oldest' | 'reject_newest';
  synchronous: 'full' | 'normal';
  maxReadingsPerRow: number;
  clock: Clock;
  /** What to do with a database that fails to open or check (default move_aside). */
  onCorrupt?: 'move_aside' | 'refuse';
  /** Monotonic time and boot id for ages (default: from `clock`, one boot). */
  time?: TimeSources;
  /** Apply acks on their own once this many rows are pending (default 1000) … */
  ackFlushRows?: number;
  /** … or this long after the first pending ack, if no commit came first (default 30 s). */
  ackFlushMs?: number;
  /** Most informational events kept waiting; loss events are always kept. */
  maxEvents?: number;
  /** Fewest seqs reserved in the ledger at a time (default 1000; more at high rates). */
  seqBlock?: number;
  /** Free space left alone on the file system (default 2 %, at most 16 MiB). */
  reserveBytes?: number;
  /** A fault in a path that must not throw (applying acks): for the log. */
  onFault?: (what: string, err: unknown) => void;
  /** Told of every event as it is recorded (the status page's "last events"); must not throw. */
  onEvent?: (event: Record<string, unknown>) => void;
}

const isDropReason = (r: string): r is DropReason => r === 'max_bytes' || r === 'max_age' || r === 'disk_full';

/** Below this, max_bytes bounds the stored readings only (tests); at or above, every file. */
const PHYSICAL_MIN = 1024 * 1024;
const BT_KEY = '_buffer_time';

export class SqliteBuffer implements DurableBuffer {
  readonly file: string;
  readonly disk: DiskGuard;
  readonly events: EventJournal;
  readonly state: StateStore;
  private readonly db: Database.Database;
  private readonly stmt: ReturnType<typeof prepareStatements>;
  private readonly ledger: SeqLedger;
  private readonly time: BufferTime;
  private readonly walCap: number;
  private nextSeq = 1;
  private readonly t = new Tally();
  private pendingAcks: number[] = [];
  private cancelAckFlush: (() => void) | undefined;
  private diskFailing = false;
  private readonly bootIdSource: TimeSources['bootIdSource'];

  constructor(private readonly opts: SqliteBufferOptions) {
    this.walCap = Math.max(256 * 1024, Math.min(4 * 1024 * 1024, Math.floor(opts.maxBytes / 8)));
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
    this.state = this.stateStore();
    // Seqs skipped while the disk was full are in the ledger, not the database.
    const pending = this.ledger.found?.pending ?? [];
    const dbNext = Math.max(this.loadCounters(), ...pending.map((p) => p.last_seq + 1));
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
    this.nextSeq = start.nextSeq;
    // The database learns where seq went, so the next open agrees with the ledger.
    if (this.nextSeq > dbNext) this.writeMeta('next_seq', this.nextSeq, true);
    this.time = new BufferTime(timeSources, this.state.get<BufferTimeSaved>(BT_KEY));
    this.ledger.reserve(this.nextSeq, this.floor());
    for (const p of pending) {
      // Counted in memory only when the disk was full: count them now, then announce.
      if (isDropReason(p.reason)) this.t.countDrop(p.reason, p.last_seq - p.first_seq + 1);
      this.announceLoss(p.first_seq, p.last_seq, p.reason);
    }
    if (start.lost) {
      const { first_seq, last_seq, reason } = start.lost;
      this.t.lostTotal += last_seq - first_seq + 1;
      this.writeMeta('lost_total', this.t.lostTotal);
      const detail =
        reason === 'ledger_damaged'
          ? `${LEDGER_FILE} ${this.ledger.damaged ?? 'could not be read'}: seq skips the most the ledger could have been ahead of the database, so none is reused (most of this range was never handed out)`
          : (opened.replaced?.detail ?? (walDamaged ? 'the WAL was damaged: committed transactions after the damage are gone' : undefined));
      this.events.emit({
        type: 'buffer_lost',
        reason,
        first_seq,
        last_seq,
        count: last_seq - first_seq + 1,
        ...(detail ? { detail } : {}),
        ...(opened.replaced ? { moved_to: opened.replaced.movedTo } : {}),
      });
    }
    this.replaced = opened.replaced;
    this.saveTime();
    this.disk.ensureBallast();
  }

  /** The database had to be moved aside at open: why and where. */
  readonly replaced: { detail: string; movedTo: string } | undefined;

  private stateStore(): StateStore {
    const get = this.stmt.getState;
    const set = this.stmt.setState;
    return {
      get<T>(key: string): T | undefined {
        const row = get.get(key) as { value: string } | undefined;
        return row ? (JSON.parse(row.value) as T) : undefined;
      },
      set(key: string, value: unknown): void {
        set.run(key, JSON.stringify(value));
      },
    };
  }

  commit(readings: readonly Reading[]): CommitResult {
    if (readings.length === 0) return { accepted: 0, rejected: 0, dropped: 0 };
    try {
      return this.tryCommit(readings);
    } catch (err) {
      if (!isDiskFull(err)) throw err;
      this.setDiskFailing(true);
      // Make room (ballast, then the overflow policy) and try once more.
      this.disk.releaseBallast();
      if (this.opts.onFull === 'drop_oldest') this.freeRoom(Math.max(this.t.bytes / 10, 64 * 1024), 'disk_full');
      this.checkpoint();
      const r = this.tryCommit(readings);
      return r;
    }
  }

  private tryCommit(readings: readonly Reading[]): CommitResult {
    const start = this.nextSeq;
    const rows = encodeRows(readings, start, this.opts.maxReadingsPerRow);
    const incoming = rows.reduce((n, r) => n + r.bytes, 0);
    // Reserve about ten commits ahead (~1 s at the default interval).
    this.ledger.reserve(start + readings.length, this.floor(), readings.length * 10);
    // Acknowledged rows go in the same transaction (one fsync, not two) and before
    // any limit is applied: never drop (and report) what was already delivered.
    const acks = this.takeAcks();
    const delta = new Tally();
    const run = this.db.transaction((): CommitResult => {
      this.deleteRows(acks, delta);
      const over = this.overBy(incoming, delta);
      let dropped = 0;
      if (over.bytes > 0) {
        if (this.opts.onFull === 'reject_newest') {
          delta.rejectedTotal += readings.length;
          this.writeMeta('rejected_total', this.t.rejectedTotal + delta.rejectedTotal);
          this.events.write({ type: 'buffer_rejected', count: readings.length, reason: over.reason, rejected_total: this.t.rejectedTotal + delta.rejectedTotal });
          this.settleSeqMeta(delta);
          return { accepted: 0, rejected: readings.length, dropped: 0 };
        }
        dropped = this.dropOldest(over.bytes, over.reason, delta);
      }
      const now = this.time.now();
      for (const r of rows) {
        this.stmt.insert.run(r.firstSeq, r.device, r.firstSeq, r.firstSeq + r.count - 1, r.count, now, r.bytes, r.blob);
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
      this.pendingAcks = acks.concat(this.pendingAcks);
      this.events.reload();
      throw err;
    }
    this.t.apply(delta);
    this.dropAcksUpTo(delta.droppedUpToId);
    if (result.accepted > 0) this.nextSeq = start + readings.length;
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

  /**
   * How many logical bytes must go before `incoming` fits (0: it fits), and which limit
   * bites: `max_bytes`, or the disk (free space is what limits the buffer now).
   */
  private overBy(incoming: number, delta: Tally): { bytes: number; reason: 'max_bytes' | 'disk_full' } {
    const logical = this.t.bytes + delta.bytes + incoming - this.opts.maxBytes;
    if (this.opts.maxBytes < PHYSICAL_MIN) return { bytes: Math.max(0, logical), reason: 'max_bytes' };
    // Every file counts: pages in use, the WAL at its cap, -shm, ledger and ballast.
    const pageSize = Number(this.stmt.pageSize.pluck().get());
    const used = (Number(this.stmt.pageCount.pluck().get()) - Number(this.stmt.freelist.pluck().get())) * pageSize;
    const overhead = this.walCap + 64 * 1024 + 4096 + 2 * this.disk.ballastBytes;
    const stored = Math.max(1, this.t.bytes + delta.bytes);
    const ratio = stored > 64 * 1024 ? Math.min(4, Math.max(1, used / stored)) : 1.3;
    const limit = this.disk.budget(this.fileBytes());
    const physical = Math.ceil((used + incoming * ratio + overhead - limit) / ratio);
    const bytes = Math.max(0, logical, physical);
    // The disk is what bites when its budget is below max_bytes and the files hit it.
    const reason = limit < this.opts.maxBytes && physical >= logical && bytes > 0 ? 'disk_full' : 'max_bytes';
    return { bytes, reason };
  }

  private takeAcks(): number[] {
    this.cancelAckFlush?.();
    this.cancelAckFlush = undefined;
    const ids = this.pendingAcks;
    this.pendingAcks = [];
    return ids;
  }

  private dropAcksUpTo(id: number | undefined): void {
    if (id !== undefined) this.pendingAcks = this.pendingAcks.filter((x) => x > id);
  }

  /** Inside a transaction that inserts nothing: write next_seq down if the newest row went. */
  private settleSeqMeta(delta: Tally): void {
    if (delta.seqMetaDue) this.writeMeta('next_seq', this.nextSeq);
    delta.seqMetaDue = false;
  }

  /** Delete rows by id inside a transaction; marks next_seq due when the newest goes (settleSeqMeta). */
  private deleteRows(ids: readonly number[], delta: Tally): RowGone {
    const gone: RowGone = { readings: 0 };
    let newestGone = false;
    for (const id of ids) {
      const row = this.stmt.deleteOne.get(id) as { count: number; bytes: number; first_seq: number; last_seq: number } | undefined;
      if (!row) continue;
      delta.add({ rows: -1, readings: -row.count, bytes: -row.bytes });
      gone.readings += row.count;
      gone.firstSeq = Math.min(gone.firstSeq ?? row.first_seq, row.first_seq);
      gone.lastSeq = Math.max(gone.lastSeq ?? row.last_seq, row.last_seq);
      if (row.last_seq === this.nextSeq - 1) newestGone = true;
    }
    if (newestGone) delta.seqMetaDue = true;
    return gone;
  }

  /**
   * Delete oldest rows (until `needBytes` are freed, or older than `olderThan`); announces
   * the ranges. One event per contiguous seq run: rows acknowledged out of order (the
   * uplink's live lane delivers newer rows before older ones) leave holes of delivered
   * seqs that a single first..last range would report as dropped.
   */
  private dropOldest(needBytes: number, reason: DropReason, delta: Tally, olderThan?: number): number {
    let freed = 0;
    let dropped = 0;
    const runs: { first: number; last: number; count: number }[] = [];
    let lastId: number | undefined;
    let after = 0;
    for (let done = false; !done; ) {
      const batch = this.stmt.oldestAfter.all(after, 500) as { id: number; first_seq: number; last_seq: number; count: number; bytes: number; committed_at: number }[];
      for (const row of batch) {
        if (olderThan !== undefined ? row.committed_at >= olderThan : freed >= needBytes) {
          done = true;
          break;
        }
        const run = runs[runs.length - 1];
        if (run && (row.first_seq === run.last + 1 || runs.length >= MAX_DROP_RUNS)) {
          run.last = row.last_seq;
          run.count += row.count;
        } else runs.push({ first: row.first_seq, last: row.last_seq, count: row.count });
        lastId = after = row.id;
        freed += row.bytes;
        dropped += row.count;
        delta.add({ rows: -1, readings: -row.count, bytes: -row.bytes });
      }
      if (batch.length < 500) done = true;
    }
    if (lastId === undefined || runs.length === 0) return 0;
    this.stmt.deleteUpTo.run(lastId);
    delta.droppedUpToId = lastId;
    delta.countDrop(reason, dropped);
    delta.seqMetaDue = true;
    this.writeDropCounters(delta);
    let total = this.t.droppedTotal + delta.droppedTotal - dropped;
    for (const r of runs) {
      total += r.count;
      this.events.write({ type: 'buffer_dropped', reason, first_seq: r.first, last_seq: r.last, count: r.count, dropped_total: total });
    }
    return dropped;
  }

  private writeDropCounters(delta: Tally): void {
    this.writeMeta('dropped_total', this.t.droppedTotal + delta.droppedTotal);
    for (const [reason, n] of Object.entries(delta.droppedBy)) this.writeMeta(`dropped_${reason}`, (this.t.droppedBy[reason] ?? 0) + n);
  }

  /** On a full disk: drop the oldest rows worth `bytes` in their own transaction. */
  private freeRoom(bytes: number, reason: DropReason): void {
    const delta = new Tally();
    try {
      this.db.transaction(() => {
        this.dropOldest(bytes, reason, delta);
        this.settleSeqMeta(delta);
      }).immediate();
    } catch {
      this.events.reload();
      return;
    }
    this.t.apply(delta);
    this.dropAcksUpTo(delta.droppedUpToId);
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
    const firstSeq = this.nextSeq;
    const lastSeq = firstSeq + count - 1;
    this.ledger.reserve(lastSeq + 1, this.floor());
    this.nextSeq = lastSeq + 1;
    this.t.countDrop(reason, count);
    this.announceLoss(firstSeq, lastSeq, reason);
    return { firstSeq, lastSeq };
  }

  private announceLoss(first: number, last: number, reason: string): void {
    const count = last - first + 1;
    if (isDropReason(reason)) {
      try {
        this.db.transaction(() => this.writeDropCounters(Tally.drop(reason, 0))).immediate();
      } catch {
        // counted in memory; written with the next successful drop
      }
      this.events.emit({ type: 'buffer_dropped', reason, first_seq: first, last_seq: last, count, dropped_total: this.t.droppedTotal });
    } else {
      this.events.emit({ type: 'buffer_lost', reason: reason as 'unclean_shutdown', first_seq: first, last_seq: last, count });
    }
  }

  /** Readings refused (reject_newest with the disk failing): counted and announced, no seq. */
  reject(count: number, reason: 'max_bytes' | 'disk_full'): void {
    this.t.rejectedTotal += count;
    this.writeMeta('rejected_total', this.t.rejectedTotal, true);
    this.events.emit({ type: 'buffer_rejected', reason, count, rejected_total: this.t.rejectedTotal });
  }

  private writeMeta(key: string, value: number, quiet = false): void {
    if (!quiet) return void this.stmt.setMeta.run(key, value);
    try {
      this.stmt.setMeta.run(key, value);
    } catch {
      // disk full: the event carries the total; the next write stores it
    }
  }

  read(afterId: number, limit: number): StoredBatch[] {
    const rows = this.stmt.read.all(afterId, limit) as { id: number; device: string; first_seq: number; last_seq: number; count: number; payload: Buffer }[];
    return rows.map((r) => ({ id: r.id, device: r.device, firstSeq: r.first_seq, lastSeq: r.last_seq, count: r.count, json: decompress(r.payload) }));
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

  /** Never throws: on failure (disk full) the acks wait for the next try; rows are sent again at worst. */
  flushAcks(): boolean {
    const ids = this.takeAcks();
    if (ids.length === 0) return true;
    const delta = new Tally();
    try {
      this.db.transaction(() => {
        this.deleteRows(ids, delta);
        this.settleSeqMeta(delta);
      }).immediate();
    } catch (err) {
      this.pendingAcks = ids.concat(this.pendingAcks);
      if (isDiskFull(err)) this.setDiskFailing(true);
      this.opts.onFault?.('applying acknowledgements', err);
      return false;
    }
    this.t.apply(delta);
    this.maybeVacuum();
    return true;
  }

  /** Hand free pages back to the filesystem only when they dwarf the live data. */
  private maybeVacuum(): void {
    try {
      const free = Number(this.stmt.freelist.pluck().get());
      const pages = Number(this.stmt.pageCount.pluck().get());
      if (free > 1024 && free > (pages - free) * 2) this.db.pragma('incremental_vacuum(2048)');
    } catch (err) {
      this.opts.onFault?.('vacuum', err);
    }
  }

  /** Drop rows older than max_age (on the buffer clock); also saves the buffer clock. */
  expire(): number {
    this.saveTime();
    const oldest = this.stmt.oldestAt.get() as { committed_at: number } | undefined;
    const cutoff = this.time.now() - this.opts.maxAgeMs;
    if (!oldest || oldest.committed_at >= cutoff) return 0;
    const delta = new Tally();
    const n = this.db
      .transaction(() => {
        const dropped = this.dropOldest(0, 'max_age', delta, cutoff);
        this.settleSeqMeta(delta);
        return dropped;
      })
      .immediate();
    this.t.apply(delta);
    this.dropAcksUpTo(delta.droppedUpToId);
    return n;
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
    let n = 0;
    for (const f of [this.file, `${this.file}-wal`, `${this.file}-shm`, join(this.opts.dataDir, LEDGER_FILE), this.disk.ballastFile, this.disk.openReserveFile]) {
      try {
        n += statSync(f).size;
      } catch {
        // not there
      }
    }
    return n;
  }

  /** What is waiting for delivery; rows acknowledged but not yet deleted do not count. */
  stats(): BufferStats {
    const ids = this.pendingAcks.length > 0 ? JSON.stringify(this.pendingAcks) : undefined;
    const acked = ids ? (this.stmt.sumOf.get(ids) as { rows: number; readings: number; bytes: number }) : { rows: 0, readings: 0, bytes: 0 };
    const oldest = (ids ? this.stmt.oldestNotIn.get(ids) : this.stmt.oldestAt.get()) as { committed_at: number } | undefined;
    const fileBytes = this.fileBytes();
    return {
      rows: this.t.rows - acked.rows,
      readings: this.t.readings - acked.readings,
      bytes: this.t.bytes - acked.bytes,
      oldestAgeMs: oldest ? this.time.age(oldest.committed_at) : null,
      nextSeq: this.nextSeq,
      droppedTotal: this.t.droppedTotal,
      droppedByReason: { ...this.t.droppedBy },
      rejectedTotal: this.t.rejectedTotal,
      lostTotal: this.t.lostTotal,
      acceptedByQuality: { ...this.t.acceptedBy },
      eventsEvicted: this.events.evictedTotal,
      pendingEvents: this.events.waiting,
      fileBytes,
      disk: this.disk.state(fileBytes),
      diskFreeBytes: this.disk.freeBytes(),
      ...(this.bootIdSource ? { bootId: this.bootIdSource } : {}),
    };
  }

  /** Readings waiting per device (for `citygate queue stats`). */
  perDevice(): { device: string; readings: number; first_seq: number; last_seq: number }[] {
    return this.stmt.perDevice.all() as { device: string; readings: number; first_seq: number; last_seq: number }[];
  }

  /**
   * Delete buffered readings (all, or one device's) in chunks, yielding between
   * chunks. Recorded as an event naming what went: deliberate loss is never silent.
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
      const delta = new Tally();
      const gone = this.db
        .transaction(() => {
          const g = this.deleteRows(ids, delta);
          this.settleSeqMeta(delta);
          return g;
        })
        .immediate();
      this.t.apply(delta);
      done += gone.readings;
      if (gone.firstSeq !== undefined) first = Math.min(first ?? gone.firstSeq, gone.firstSeq);
      if (gone.lastSeq !== undefined) last = Math.max(last ?? gone.lastSeq, gone.lastSeq);
      opts.onProgress?.(done);
      await new Promise((r) => setImmediate(r));
    }
    if (done > 0 && first !== undefined && last !== undefined) {
      this.events.emit({ type: 'buffer_purged', first_seq: first, last_seq: last, count: done, ...(opts.device ? { device: opts.device } : {}) });
      this.db.pragma('incremental_vacuum');
    }
    return done;
  }

  /** Lowest seq that may still be waiting (for the ledger). */
  private floor(): number {
    const row = this.stmt.oldestFirstSeq.get() as { first_seq: number } | undefined;
    return row?.first_seq ?? this.nextSeq;
  }

  /** Counters from disk; returns the database's own next seq. */
  private loadCounters(): number {
    const agg = this.stmt.aggregate.get() as { rows: number; readings: number | null; bytes: number | null; last: number | null };
    const meta = (key: string): number => (this.stmt.getMeta.get(key) as { value: number } | undefined)?.value ?? 0;
    this.t.load({
      rows: agg.rows,
      readings: agg.readings ?? 0,
      bytes: agg.bytes ?? 0,
      droppedTotal: meta('dropped_total'),
      droppedBy: { max_bytes: meta('dropped_max_bytes'), max_age: meta('dropped_max_age'), disk_full: meta('dropped_disk_full') },
      rejectedTotal: meta('rejected_total'),
      lostTotal: meta('lost_total'),
    });
    return Math.max(meta('next_seq'), (agg.last ?? 0) + 1, 1);
  }

  close(): void {
    if (!this.db.open) return;
    this.flushAcks();
    this.saveTime();
    this.writeMeta('next_seq', this.nextSeq, true);
    this.checkpoint();
    const floor = this.floor();
    this.db.close();
    try {
      this.ledger.close(this.nextSeq, floor);
    } catch (err) {
      this.opts.onFault?.('closing the seq ledger', err);
    }
  }
}

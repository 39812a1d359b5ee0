/**
 * The durable store-and-forward buffer: the contract.
 *
 * - `commit(readings)` is one transaction. When it returns, every reading it
 *   accepted has a `seq` and survives `kill -9` (and power loss with
 *   synchronous=full on a card that honours flush). `seq` grows by exactly 1 per
 *   accepted reading, across restarts, and is never reused.
 * - Readings are stored as batches: one row per device per commit, at most
 *   `maxReadingsPerRow` readings, holding the JSON the uplink will publish
 *   (compressed). Rows in id order have increasing, contiguous `seq` ranges.
 * - `read(afterId, limit)` hands out rows in order without removing them
 *   (BeginTransaction in Telegraf's terms); `ack(ids)` removes rows the broker has
 *   acknowledged (EndTransaction). Nothing else removes rows, except the limits:
 * - limits (`max_bytes` — every file on disk counts —, `max_age`, and the disk's own
 *   free space) drop the oldest rows (or reject new readings) and write an event
 *   naming the dropped `seq` range, in the same transaction. Loss is never silent.
 * - `commit` throws only when even making room failed (the disk is failing); the
 *   caller keeps the readings and, when it cannot keep them, hands them to `skip`
 *   (they get seqs and a `disk_full` announcement) or `reject`.
 * - `ack` and `flushAcks` never throw: an acknowledgement that cannot be applied
 *   waits (a duplicate later at worst).
 * - Events (drops, device transitions …) wait in the same database until the uplink
 *   acknowledges them; `addEvent` never throws (see event-journal.ts).
 * Methods are synchronous (better-sqlite3); each does bounded work.
 */
import type { Reading } from '../core/reading.js';
import type { StateStore } from '../core/state-store.js';
import type { DiskState, DropReason, EventBody } from '../core/payloads.js';
import type { StoredEvent } from './event-journal.js';

export type { StoredEvent };

export interface StoredBatch {
  /** Increases with every row and is never reused (it is the row's first seq). */
  id: number;
  device: string;
  firstSeq: number;
  lastSeq: number;
  count: number;
  /** The readings as a JSON array body: `{…},{…}` (no brackets). */
  json: string;
}

export interface CommitResult {
  accepted: number;
  firstSeq?: number;
  lastSeq?: number;
  /** Readings refused because the buffer was full and the policy is reject_newest. */
  rejected: number;
  /** Readings dropped (oldest) to make room. */
  dropped: number;
}

export interface BufferStats {
  rows: number;
  readings: number;
  bytes: number;
  /** Age of the oldest waiting reading, on the buffer clock (never negative). */
  oldestAgeMs: number | null;
  nextSeq: number;
  droppedTotal: number;
  droppedByReason: Record<string, number>;
  rejectedTotal: number;
  /** Seqs announced as possibly lost (database lost, damaged or behind). */
  lostTotal: number;
  /** Readings accepted since the process started, by quality. */
  acceptedByQuality: Record<string, number>;
  eventsEvicted: number;
  pendingEvents: number;
  /** Database, WAL, -shm, ledger and ballast. */
  fileBytes: number;
  disk: DiskState;
  diskFreeBytes: number | null;
  /** Where the boot id came from (boot-id.ts): `unknown` means every start is taken for a reboot. */
  bootId?: 'systemd' | 'proc' | 'unknown';
}

export interface DurableBuffer {
  commit(readings: readonly Reading[]): CommitResult;
  read(afterId: number, limit: number): StoredBatch[];
  ack(ids: readonly number[]): void;
  /** Apply pending acknowledgements now (otherwise applied in groups). False if it failed. */
  flushAcks(): boolean;
  /** Drop rows older than max_age (called periodically). Returns readings dropped. */
  expire(): number;
  /** Readings that cannot be kept get seqs and are announced as dropped. */
  skip(count: number, reason: DropReason): { firstSeq: number; lastSeq: number };
  /** Readings refused without a seq (reject_newest): counted and announced. */
  reject(count: number, reason: 'max_bytes' | 'disk_full'): void;
  addEvent(payload: EventBody): void;
  readEvents(limit: number): StoredEvent[];
  ackEvent(id: number): void;
  /** Cheap: whether any event waits (no query). */
  hasEvents(): boolean;
  readonly state: StateStore;
  stats(): BufferStats;
  close(): void;
}

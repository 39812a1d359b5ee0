/**
 * The send order: which buffered rows go out next, as data messages.
 *
 * Two lanes read the same buffer with their own cursor, in row-id (= seq) order:
 * - live: rows with id ≥ `liveFrom` (see live-mark.ts), batched by the batch rules
 *   (`max_readings`, or `max_delay` after the first waiting reading);
 * - backlog: rows with id < `liveFrom`, oldest first, in full batches, every message
 *   marked `"replay": true`.
 * In `live_first` both lanes send side by side:
 * - when both have a message ready, the lane that sent fewer bytes for its weight
 *   goes first (weighted fair queueing: the backlog's weight is `backlogShare`, the
 *   live lane's the rest; a tie goes to live). A lane with nothing ready earns no
 *   credit, so the other gets the whole link.
 * - the backlog may have at most `backlogBudget` bytes awaiting PUBACK (at least one
 *   message, so it always drains) and leaves one slot of the window to live: bytes in
 *   flight sit in the TCP send buffer ahead of any live message, so this bound is
 *   what keeps live latency low on a slow link.
 * In `strict` there is one lane, every row in id order (per device, seq order); rows
 * below `liveFrom` are still marked as replay.
 * Rows leave the buffer only on PUBACK (the caller acks `ackRows`) or when the buffer
 * drops them (its limits): queued backlog messages whose rows are gone are not sent.
 * After `reset()` (link lost) both cursors start again and unacknowledged rows are
 * sent again.
 * Pure apart from the injected row source and clock (one timer: the batch hold).
 */
import type { StoredBatch } from '../buffer/buffer.js';
import type { Clock } from '../core/clock.js';
import { buildMessages, type OutgoingMessage } from './batcher.js';
import type { DataEncoding } from './encoding/encoding.js';

export type LaneName = 'live' | 'backlog';
export type SendOrder = 'live_first' | 'strict';

export interface LanesConfig {
  gateway: string;
  order: SendOrder;
  /** Least share of the bytes the backlog gets when both lanes have data (0 < share < 1). */
  backlogShare: number;
  maxReadings: number;
  maxDelayMs: number;
  /** Payload encoding of data messages (default json). */
  encoding?: DataEncoding;
}

/** Where rows come from: `read(afterId, limit)` gives rows with id > afterId, in id order. */
export interface RowSource {
  read(afterId: number, limit: number): StoredBatch[];
}

export interface LaneMessage extends OutgoingMessage {
  lane: LaneName;
  /** Payload bytes (what the budget and the rate estimate count). */
  bytes: number;
}

/** What the caller knows at the moment it asks for the next message. */
export interface NextContext {
  /** Messages (all lanes) awaiting PUBACK, and the most allowed. */
  inflight: number;
  window: number;
  /** Most payload bytes in one message (the broker's Maximum Packet Size, less headers). */
  maxBytes: number;
  /** Most backlog bytes awaiting PUBACK (live_first). */
  backlogBudget: number;
  /** Stopping: send what is there, do not hold batches. */
  draining: boolean;
}

class Lane {
  cursor = 0;
  /** Exclusive upper row id (backlog: liveFrom). */
  end = Infinity;
  /** No row below `end` is left to read (backlog only). */
  exhausted = false;
  queue: LaneMessage[] = [];
  inflight = 0;
  inflightBytes = 0;
  /** Virtual time: bytes sent divided by weight. */
  vt = 0;
  constructor(readonly name: LaneName) {}
}

export class Lanes {
  private readonly live = new Lane('live');
  private readonly backlog = new Lane('backlog');
  private liveFrom = 0;
  private firstUnsentAt: number | undefined;
  private cancelHold: (() => void) | undefined;
  private staleCheckedAt = -Infinity;

  /** `onReady` is called when a held batch is due (the caller then asks `next` again). */
  constructor(
    private readonly cfg: LanesConfig,
    private readonly src: RowSource,
    private readonly clock: Clock,
    private readonly onReady: () => void,
  ) {}

  /** The link is up: rows with id ≥ `liveFrom` are live, older ones backlog. */
  start(liveFrom: number): void {
    this.reset();
    this.liveFrom = Math.max(0, liveFrom);
    if (this.cfg.order === 'live_first') {
      this.live.cursor = Math.max(0, this.liveFrom - 1);
      this.backlog.end = this.liveFrom;
      this.backlog.exhausted = false;
    }
  }

  /** The link is lost: forget queues and flights; the next `start` reads from the beginning. */
  reset(): void {
    for (const l of [this.live, this.backlog]) {
      l.cursor = 0;
      l.end = Infinity;
      l.exhausted = false;
      l.queue = [];
      l.inflight = 0;
      l.inflightBytes = 0;
      l.vt = 0;
    }
    this.backlog.exhausted = true;
    this.cancelHold?.();
    this.cancelHold = undefined;
    this.firstUnsentAt = undefined;
  }

  /** The next message to publish now, or undefined (nothing ready, or the lanes' limits). */
  next(ctx: NextContext): LaneMessage | undefined {
    if (ctx.inflight >= ctx.window) return undefined;
    const liveReady = this.ready(this.live, ctx);
    const backlogReady = this.backlogAllowed(ctx) && this.ready(this.backlog, ctx);
    let lane: Lane | undefined;
    if (liveReady && backlogReady) lane = this.backlog.vt < this.live.vt ? this.backlog : this.live;
    else lane = liveReady ? this.live : backlogReady ? this.backlog : undefined;
    if (!lane) return undefined;
    const other = lane === this.live ? this.backlog : this.live;
    const m = lane.queue.shift();
    if (!m) return undefined;
    lane.inflight++;
    lane.inflightBytes += m.bytes;
    lane.vt += m.bytes / this.weight(lane);
    // A lane with nothing ready earns no credit to burst with later.
    if (!(lane === this.live ? backlogReady : liveReady)) other.vt = Math.max(other.vt, lane.vt);
    return m;
  }

  /** A message from `next` was acknowledged (or will never be: the caller resets). */
  acked(m: LaneMessage): void {
    const lane = m.lane === 'live' ? this.live : this.backlog;
    lane.inflight = Math.max(0, lane.inflight - 1);
    lane.inflightBytes = Math.max(0, lane.inflightBytes - m.bytes);
  }

  /** Nothing queued and nothing left to read in either lane (for a drain on stop). */
  idle(): boolean {
    const b = this.backlog;
    const backlogLeft = b.queue.length > 0 || (!b.exhausted && this.src.read(b.cursor, 1).some((r) => r.id < b.end));
    return !backlogLeft && this.live.queue.length === 0 && this.src.read(this.live.cursor, 1).length === 0;
  }

  /** Counts for stats and logs. */
  snapshot(): { liveFrom: number; live: { inflight: number; bytes: number }; backlog: { inflight: number; bytes: number; done: boolean } } {
    return {
      liveFrom: this.liveFrom,
      live: { inflight: this.live.inflight, bytes: this.live.inflightBytes },
      backlog: { inflight: this.backlog.inflight, bytes: this.backlog.inflightBytes, done: this.backlog.exhausted && this.backlog.queue.length === 0 },
    };
  }

  private weight(l: Lane): number {
    return l === this.backlog ? this.cfg.backlogShare : 1 - this.cfg.backlogShare;
  }

  private backlogAllowed(ctx: NextContext): boolean {
    const b = this.backlog;
    if (b.inflight === 0) return true; // the floor: the backlog always drains
    if (b.inflight >= Math.max(1, ctx.window - 1)) return false; // a slot stays free for live
    return b.inflightBytes < ctx.backlogBudget;
  }

  private ready(l: Lane, ctx: NextContext): boolean {
    if (l === this.backlog) this.dropStale(l);
    if (l.queue.length > 0) return true;
    if (l === this.backlog) return this.fillBacklog(ctx);
    return this.fillLive(ctx);
  }

  /**
   * Forget queued messages whose rows the buffer no longer holds: at `max_bytes` it drops
   * the oldest rows, which are the backlog's next ones. Sending them anyway would spend
   * the link on readings already announced as dropped.
   */
  private dropStale(l: Lane): void {
    if (l.queue.length === 0) return;
    const now = this.clock.mono();
    if (now - this.staleCheckedAt < STALE_CHECK_MS) return;
    this.staleCheckedAt = now;
    const oldest = this.src.read(0, 1)[0]?.id ?? Infinity;
    while (l.queue.length > 0) {
      const rows = l.queue[0]?.ackRows ?? [];
      if (rows.length === 0 || Math.max(...rows) >= oldest) break;
      l.queue.shift();
    }
  }

  private readAhead(ctx: NextContext): number {
    return Math.max(16, ctx.window * 2);
  }

  private fillBacklog(ctx: NextContext): boolean {
    const b = this.backlog;
    if (b.exhausted) return false;
    const limit = this.readAhead(ctx);
    const rows = this.src.read(b.cursor, limit);
    const below = rows.filter((r) => r.id < b.end);
    // Rows below `end` were all committed before the lane started: a short read is the end.
    if (below.length < limit) b.exhausted = true;
    if (below.length === 0) return false;
    b.cursor = below[below.length - 1]?.id ?? b.cursor;
    b.queue.push(...this.build(below, ctx, true, 'backlog'));
    return b.queue.length > 0;
  }

  private fillLive(ctx: NextContext): boolean {
    const l = this.live;
    const limit = this.readAhead(ctx);
    const rows = this.src.read(l.cursor, limit);
    if (rows.length === 0) {
      this.firstUnsentAt = undefined;
      return false;
    }
    const total = rows.reduce((n, r) => n + r.count, 0);
    if (!ctx.draining && total < this.cfg.maxReadings && rows.length < limit) {
      const now = this.clock.mono();
      this.firstUnsentAt ??= now;
      const wait = this.firstUnsentAt + this.cfg.maxDelayMs - now;
      if (wait > 0) {
        this.cancelHold ??= this.clock.setTimer(wait, () => {
          this.cancelHold = undefined;
          this.onReady();
        });
        return false;
      }
    }
    this.firstUnsentAt = undefined;
    l.cursor = rows[rows.length - 1]?.id ?? l.cursor;
    // strict: one lane, the rows below liveFrom (always first in id order) marked as replay.
    const old = rows.filter((r) => r.id < this.liveFrom);
    const fresh = old.length === 0 ? rows : rows.filter((r) => r.id >= this.liveFrom);
    if (old.length > 0) l.queue.push(...this.build(old, ctx, true, 'live'));
    if (fresh.length > 0) l.queue.push(...this.build(fresh, ctx, false, 'live'));
    return l.queue.length > 0;
  }

  private build(rows: StoredBatch[], ctx: NextContext, replay: boolean, lane: LaneName): LaneMessage[] {
    return buildMessages(this.cfg.gateway, rows, this.cfg.maxReadings, ctx.maxBytes, { replay, ...(this.cfg.encoding ? { encoding: this.cfg.encoding } : {}) }).map((m) => ({ ...m, lane, bytes: Buffer.byteLength(m.payload) }));
  }
}

/** How often queued backlog messages are checked against the buffer's oldest row. */
const STALE_CHECK_MS = 50;

/** Backlog bytes allowed in flight before the link's rate is known. */
export const INITIAL_BACKLOG_BUDGET = 16 * 1024;
/** Queueing a live message may meet behind the backlog, beyond one round trip. */
export const LIVE_HEADROOM_MS = 1000;

/**
 * The backlog's in-flight budget: one round trip plus `LIVE_HEADROOM_MS` at the
 * measured rate. At least one round trip keeps the link full (the backlog loses no
 * throughput); the headroom is all a live message queues behind, and lets the rate
 * estimate grow when the link is faster than measured so far.
 */
export function backlogBudget(rateBytesPerS: number | undefined, minRttMs: number | undefined): number {
  if (rateBytesPerS === undefined || minRttMs === undefined) return INITIAL_BACKLOG_BUDGET;
  return Math.max(INITIAL_BACKLOG_BUDGET / 4, (rateBytesPerS * (minRttMs + LIVE_HEADROOM_MS)) / 1000);
}

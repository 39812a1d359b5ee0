/**
 * Group commit: readings wait in memory for at most `intervalMs` (or until `max`
 * are waiting), then go to the buffer in one transaction. This bounds what a power
 * cut can lose (one interval) and keeps SD writes low (one page per commit, not per
 * reading).
 *
 * When a commit fails (the buffer already tried to make room: the disk is failing)
 * the readings stay waiting and the commit is retried with backoff (100 ms doubling
 * to 5 s). Memory is bounded by `maxPending`; past it the overflow policy decides who
 * goes, and nothing goes silently:
 * - drop_oldest: the oldest waiting readings are handed to `buffer.skip()`: they get
 *   seqs and a `buffer_dropped` announcement with reason `disk_full`;
 * - reject_newest: new readings are refused, counted and announced (`buffer_rejected`).
 */
import type { Clock } from '../core/clock.js';
import type { Reading } from '../core/reading.js';
import type { CommitResult, DurableBuffer } from './buffer.js';

export interface GroupCommitOptions {
  intervalMs: number;
  max: number;
  maxPending?: number;
  onFull?: 'drop_oldest' | 'reject_newest';
  clock: Clock;
  onCommit?: (r: CommitResult) => void;
  /** A commit failed; `pending` readings wait in memory. Called on every failure: rate-limit the log. */
  onError?: (err: unknown, pending: number) => void;
  /** The buffer works again after failing. */
  onRecover?: () => void;
}

const RETRY_MAX_MS = 5000;

export class GroupCommitter {
  private pending: Reading[] = [];
  private cancel: (() => void) | undefined;
  private failing = false;
  private retryMs = 0;
  /** Readings that could not be kept while commits failed (all announced). */
  lostToFailure = 0;

  constructor(
    private readonly buffer: DurableBuffer,
    private readonly opts: GroupCommitOptions,
  ) {}

  add(r: Reading): void {
    const cap = this.opts.maxPending ?? this.opts.max * 4;
    if (this.pending.length >= cap) this.overflow(cap);
    if (this.pending.length >= cap) return;
    this.pending.push(r);
    if (this.pending.length >= this.opts.max && !this.failing) this.flush();
    else this.schedule(this.failing ? this.retryMs : this.opts.intervalMs);
  }

  /** Memory is full while the disk fails: the policy chooses who goes, and says so. */
  private overflow(cap: number): void {
    const n = Math.max(1, Math.floor(cap / 10));
    try {
      if ((this.opts.onFull ?? 'drop_oldest') === 'drop_oldest') {
        const gone = this.pending.splice(0, n);
        this.buffer.skip(gone.length, 'disk_full');
        this.lostToFailure += gone.length;
      } else {
        this.buffer.reject(1, 'disk_full');
        this.lostToFailure++;
      }
    } catch (err) {
      // Even the ledger cannot be written: nothing can be accepted, so refuse this one.
      this.lostToFailure++;
      this.opts.onError?.(err, this.pending.length);
    }
  }

  get waiting(): number {
    return this.pending.length;
  }

  get isFailing(): boolean {
    return this.failing;
  }

  private schedule(ms: number): void {
    if (this.cancel) return;
    this.cancel = this.opts.clock.setTimer(ms, () => {
      this.cancel = undefined;
      this.flush();
    });
  }

  /** Commit everything waiting now. Returns the result, or undefined if it failed. */
  flush(): CommitResult | undefined {
    this.cancel?.();
    this.cancel = undefined;
    if (this.pending.length === 0) return { accepted: 0, rejected: 0, dropped: 0 };
    const batch = this.pending;
    this.pending = [];
    let r: CommitResult;
    try {
      r = this.buffer.commit(batch);
    } catch (err) {
      this.failing = true;
      this.retryMs = Math.min(RETRY_MAX_MS, Math.max(this.opts.intervalMs, this.retryMs * 2));
      this.pending = batch.concat(this.pending);
      this.opts.onError?.(err, this.pending.length);
      this.schedule(this.retryMs);
      return undefined;
    }
    if (this.failing) {
      this.failing = false;
      this.retryMs = 0;
      this.opts.onRecover?.();
    }
    // Outside the try: a listener's failure must never re-queue readings that are
    // already committed (they would be stored twice under two seqs).
    this.opts.onCommit?.(r);
    return r;
  }

  stop(): void {
    this.cancel?.();
    this.cancel = undefined;
  }

  /**
   * The process is stopping with readings the disk would not take: they get seqs and
   * a `disk_full` announcement (kept in the seq ledger) instead of vanishing.
   */
  abandon(): number {
    this.stop();
    const n = this.pending.length;
    if (n === 0) return 0;
    this.pending = [];
    try {
      this.buffer.skip(n, 'disk_full');
    } catch {
      // the ledger itself cannot be written: nothing more can be done on this disk
    }
    this.lostToFailure += n;
    return n;
  }
}

/**
 * Group commit: readings wait in memory for at most `intervalMs` (or until `max`
 * are waiting), then go to the buffer in one transaction. This bounds what a power
 * cut can lose (one interval) and keeps SD writes low (one page per commit, not per
 * reading).
 *
 * If a commit fails (disk full, I/O error) the readings stay pending and the commit
 * is retried on the next tick; past `maxPending` the newest are refused and counted,
 * so a dead disk fills neither the heap nor the log.
 */
import type { Clock } from '../core/clock.js';
import type { Reading } from '../core/reading.js';
import type { CommitResult, DurableBuffer } from './buffer.js';

export interface GroupCommitOptions {
  intervalMs: number;
  max: number;
  maxPending?: number;
  clock: Clock;
  onCommit?: (r: CommitResult) => void;
  onError?: (err: unknown, pending: number) => void;
}

export class GroupCommitter {
  private pending: Reading[] = [];
  private cancel: (() => void) | undefined;
  private failing = false;
  /** Readings refused because commits were failing and memory was full. */
  lostToFailure = 0;

  constructor(
    private readonly buffer: DurableBuffer,
    private readonly opts: GroupCommitOptions,
  ) {}

  add(r: Reading): void {
    if (this.pending.length >= (this.opts.maxPending ?? this.opts.max * 4)) {
      this.lostToFailure++;
      return;
    }
    this.pending.push(r);
    if (this.pending.length >= this.opts.max && !this.failing) this.flush();
    else this.schedule();
  }

  get waiting(): number {
    return this.pending.length;
  }

  private schedule(): void {
    if (this.cancel) return;
    this.cancel = this.opts.clock.setTimer(this.opts.intervalMs, () => {
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
      this.pending = batch.concat(this.pending);
      this.opts.onError?.(err, this.pending.length);
      this.schedule();
      return undefined;
    }
    this.failing = false;
    // Outside the try: a listener's failure must never re-queue readings that are
    // already committed (they would be stored twice under two seqs).
    this.opts.onCommit?.(r);
    return r;
  }

  stop(): void {
    this.cancel?.();
    this.cancel = undefined;
  }
}

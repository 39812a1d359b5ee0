/**
 * Acknowledged rows, from the ack to their deletion. Deleting each ack on its own
 * would cost a transaction (an fsync) apiece, so the ids wait in an AckQueue (memory
 * only): the next commit takes them into its own transaction (`take`), or they are
 * applied on their own (`applyAcks`) once `ackFlushRows` are waiting (`add` says so)
 * or `ackFlushMs` after the first (`onTimer`). A transaction that rolled back hands
 * its ids back (`putBack`); ids of rows a drop deleted are forgotten (`dropUpTo`).
 * A crash loses the waiting ids and their rows are sent again: duplicates, which
 * at-least-once allows; never loss.
 */
import type { Clock } from '../core/clock.js';
import { Tally } from './tally.js';
import type { RowStore } from './row-store.js';

export interface AckTiming {
  clock: Clock;
  /** Apply acks on their own once this many rows are pending (default 1000) … */
  ackFlushRows?: number;
  /** … or this long after the first pending ack, if no commit came first (default 30 s). */
  ackFlushMs?: number;
}

export class AckQueue {
  private pending: number[] = [];
  private cancelTimer: (() => void) | undefined;

  constructor(
    private readonly opts: AckTiming,
    private readonly onTimer: () => void,
  ) {}

  /** Ids acknowledged, oldest first. */
  get waiting(): readonly number[] {
    return this.pending;
  }

  /** Queue acknowledged ids; true when enough wait that they should be applied now. */
  add(ids: readonly number[]): boolean {
    if (this.pending.length === 0 && !this.cancelTimer) {
      this.cancelTimer = this.opts.clock.setTimer(this.opts.ackFlushMs ?? 30_000, () => {
        this.cancelTimer = undefined;
        this.onTimer();
      });
    }
    for (const id of ids) this.pending.push(id);
    return this.pending.length >= (this.opts.ackFlushRows ?? 1000);
  }

  /** All waiting ids, for a transaction to delete; the timer is stopped. */
  take(): number[] {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    const ids = this.pending;
    this.pending = [];
    return ids;
  }

  /** The transaction that took `ids` rolled back: they wait again, ahead of newer ones. */
  putBack(ids: number[]): void {
    this.pending = ids.concat(this.pending);
  }

  /** Rows up to `id` were dropped: their acks are moot. */
  dropUpTo(id: number | undefined): void {
    if (id !== undefined) this.pending = this.pending.filter((x) => x > id);
  }
}

/**
 * Delete the waiting acknowledged rows in their own transaction, then hand free pages
 * back if they dwarf the live data. Never throws: on failure (disk full) the ids wait
 * again for the next try (`onFailed` is told first); rows are sent again at worst.
 */
export function applyAcks(rows: RowStore, queue: AckQueue, o: { onFault?: (what: string, err: unknown) => void }, onFailed: (err: unknown) => void): boolean {
  const ids = queue.take();
  if (ids.length === 0) return true;
  const delta = new Tally();
  try {
    rows.db.transaction(() => {
      rows.deleteRows(ids, delta);
      rows.settleSeqMeta(delta);
    }).immediate();
  } catch (err) {
    queue.putBack(ids);
    onFailed(err);
    o.onFault?.('applying acknowledgements', err);
    return false;
  }
  rows.t.apply(delta);
  maybeVacuum(rows, o);
  return true;
}

/** Hand free pages back to the filesystem only when they dwarf the live data. */
function maybeVacuum(rows: RowStore, o: { onFault?: (what: string, err: unknown) => void }): void {
  try {
    const free = Number(rows.stmt.freelist.pluck().get());
    const pages = Number(rows.stmt.pageCount.pluck().get());
    if (free > 1024 && free > (pages - free) * 2) rows.db.pragma('incremental_vacuum(2048)');
  } catch (err) {
    o.onFault?.('vacuum', err);
  }
}

/**
 * How long Node's event loop was stalled, for the counter's "can we vouch for this count"
 * rule (vouch.ts). sysfs edges carry no kernel timestamp: the debouncer times each edge by
 * when JavaScript handles it, so a stalled loop (an SQLite commit, a GC pause, the process
 * descheduled) shifts or merges edges. This measures the stalls, so a window that had one
 * can be published as `uncertain` instead of `good`.
 *
 * Implementation: perf_hooks `monitorEventLoopDelay`, a timer in Node's C++ layer (no
 * JavaScript runs per tick) that records the interval between its ticks; the longest
 * interval bounds the longest stall from above (a stall of S ms yields an interval between
 * S and S + resolution). `reset()` loses the interval in progress, so a stall right after a
 * reset would go unseen: two histograms are reset alternately, so each reading covers the
 * whole window just closed and the one before it (all but that one's first tick, which the
 * previous reading covered): no stall falls between readings.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/** Longest event-loop stalls, by report window. */
export interface LoopLag {
  /** The histogram tick, ms: stalls shorter than this may read as up to this long. */
  readonly resolutionMs: number;
  /**
   * Closes a report window: the longest stall (an upper bound, ms) over this window and
   * the one before it; every stall is in at least one reading. 0 before any tick.
   */
  closeWindow(): number;
  /** Stops the timers. Idempotent. */
  stop(): void;
}

/** The histogram tick for a debounce: a quarter of it, between 1 and 10 ms. */
export function lagResolutionMs(debounceMs: number): number {
  return Math.min(10, Math.max(1, Math.floor(debounceMs / 4)));
}

export class EventLoopLag implements LoopLag {
  private readonly h: [IntervalHistogram, IntervalHistogram];
  private next: 0 | 1 = 0;
  private stopped = false;

  constructor(readonly resolutionMs: number) {
    this.h = [monitorEventLoopDelay({ resolution: resolutionMs }), monitorEventLoopDelay({ resolution: resolutionMs })];
    for (const h of this.h) h.enable();
  }

  closeWindow(): number {
    const h = this.h[this.next];
    this.next = this.next === 0 ? 1 : 0;
    const max = h.count > 0 ? h.max / 1e6 : 0;
    h.reset();
    return max;
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const h of this.h) h.disable();
  }
}

/**
 * Debouncing on the injected clock (docs/architecture.md#time-is-injected), so tests replay a bouncing reed switch
 * in microseconds of real time (test/unit/gpio/debounce.test.ts).
 *
 * Rule: a new level counts once the line has reported no further transition for
 * `debounceMs` (a "settle" debounce). A glitch shorter than that — a bounce, or a spike
 * induced on a long cable — is dropped, and so is a burst that ends where it began. The
 * accepted change is stamped with the time of the *first* transition of its burst, which
 * is when the contact really moved.
 *
 * Input is what a GPIO watch delivers: "a transition happened, the line now reads X".
 * Two reports of the same level in a row mean a transition in between was missed (an
 * edge shorter than the interrupt latency): the settle time restarts. With no debounce
 * time, a report of the level already held is such a pair of merged edges, and counts as
 * a rejected burst of length 0.
 *
 * Rejected bursts are reported with their length (first to last transition, as handled),
 * and so are accepted ones: vouch.ts judges by them whether a count can be vouched for.
 *
 * Timestamped edges (a port that has the kernel's time of each edge, gpiomon-port.ts): the
 * burst is measured on those times, not on when JavaScript got to them, so a stalled event
 * loop delays decisions but does not change them. A burst whose quiet time had run out
 * before the next edge's timestamp settles first; the settle timer waits one more turn of
 * the event loop so edges already waiting in the pipe are read before it decides. An edge
 * older than a decision already taken (it arrived too late) is reported to `onLate`.
 */
import type { Clock } from '../../core/clock.js';
import type { Level } from '../../ports/gpio/port.js';

export interface DebounceStats {
  /** Transitions reported by the line. */
  raw: number;
  /** Bursts that ended at the level they started from (bounces, spikes). */
  rejected: number;
  /** Accepted level changes. */
  accepted: number;
}

export class Debouncer {
  private level: Level;
  private pending: { level: Level; since: number; last: number; cancel: () => void } | undefined;
  readonly stats: DebounceStats = { raw: 0, rejected: 0, accepted: 0 };
  /**
   * Called for each rejected burst with its length in ms, first to last transition
   * (health counts them: a noisy line shows up).
   */
  onRejected: ((spanMs: number) => void) | undefined;
  /** Called for each accepted change with its burst's length in ms, first to last transition. */
  onAccepted: ((spanMs: number) => void) | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly debounceMs: number,
    initial: Level,
    /** Called with the accepted level and the monotonic time its burst began. */
    private readonly onChange: (level: Level, atMono: number) => void,
  ) {
    this.level = initial;
  }

  /** A timestamped edge arrived after a decision it should have been part of. */
  onLate: (() => void) | undefined;
  /** Timestamped mode: the time up to which the last decision was taken. */
  private decidedUpTo = -Infinity;
  private timestamped = false;

  /** The debounced level. */
  get stable(): Level {
    return this.level;
  }

  /** Whether a burst is still settling. */
  get settling(): boolean {
    return this.pending !== undefined;
  }

  /**
   * The line reported a transition; it now reads `level`. `at`: when the kernel saw it, on
   * this clock's monotonic time, for ports that know (then every call should pass it).
   */
  raw(level: Level, at?: number): void {
    this.stats.raw++;
    if (at !== undefined) {
      this.timestamped = true;
      if (at < this.decidedUpTo) this.onLate?.();
      // the open burst went quiet for the debounce time before this edge: it settled then
      if (this.pending && at - this.pending.last >= this.debounceMs) this.settle();
    }
    const now = at ?? this.clock.mono();
    const since = this.pending?.since ?? now;
    this.pending?.cancel();
    this.pending = undefined;
    if (this.debounceMs <= 0) {
      if (level !== this.level) this.commit(level, now, 0);
      else this.reject(0);
      return;
    }
    const pending = {
      level,
      since,
      last: now,
      cancel: this.clock.setTimer(Math.max(0, now + this.debounceMs - this.clock.mono()), () => {
        if (!this.timestamped) return this.settle();
        // one more turn: edges waiting in the pipe are read (and restart the burst) first
        pending.cancel = this.clock.setTimer(0, () => {
          if (this.pending === pending) this.settle();
        });
      }),
    };
    this.pending = pending;
  }

  private settle(): void {
    const p = this.pending;
    this.pending = undefined;
    if (!p) return;
    p.cancel();
    this.decidedUpTo = Math.max(this.decidedUpTo, p.last + this.debounceMs);
    if (p.level === this.level) {
      this.reject(p.last - p.since);
      return;
    }
    this.commit(p.level, p.since, p.last - p.since);
  }

  private reject(spanMs: number): void {
    this.stats.rejected++;
    this.onRejected?.(spanMs);
  }

  private commit(level: Level, at: number, spanMs: number): void {
    this.level = level;
    this.stats.accepted++;
    this.onAccepted?.(spanMs);
    this.onChange(level, at);
  }

  /** Stop any pending settle timer (driver stop). */
  dispose(): void {
    this.pending?.cancel();
    this.pending = undefined;
  }
}

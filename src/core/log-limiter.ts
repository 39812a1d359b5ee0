/**
 * A fault that repeats (a full disk, a dead broker) is logged once when it starts,
 * then at most once per `everyMs` with how many times it happened meanwhile, and once
 * when it ends: an SD card is not filled with the same line ten times a second.
 */
import type { Clock } from './clock.js';

export class LogLimiter {
  private lastAt = -Infinity;
  private suppressed = 0;
  private active = false;

  constructor(
    private readonly clock: Pick<Clock, 'mono'>,
    private readonly everyMs = 60_000,
  ) {}

  /** Whether to log this occurrence now; `repeats` is how many were held back before it. */
  hit(): { log: boolean; repeats: number } {
    this.active = true;
    const now = this.clock.mono();
    if (now - this.lastAt >= this.everyMs) {
      const repeats = this.suppressed;
      this.lastAt = now;
      this.suppressed = 0;
      return { log: true, repeats };
    }
    this.suppressed++;
    return { log: false, repeats: 0 };
  }

  /** The fault ended: true once (log the recovery), with the occurrences not yet logged. */
  clear(): { log: boolean; repeats: number } {
    if (!this.active) return { log: false, repeats: 0 };
    const repeats = this.suppressed;
    this.active = false;
    this.suppressed = 0;
    this.lastAt = -Infinity;
    return { log: true, repeats };
  }
}

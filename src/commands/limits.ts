/**
 * The two memories a command dispatcher needs, both bounded:
 * - `RateLimiter`: at most `max` commands in any sliding window of `perMs` (monotonic).
 * - `RecentRequests`: the last `size` request ids and their (pending or settled)
 *   answers, so a repeated id is answered again instead of executed again.
 */
import type { Clock } from '../core/clock.js';

export class RateLimiter {
  private readonly times: number[] = [];

  constructor(
    private readonly max: number,
    private readonly perMs: number,
    private readonly clock: Clock,
  ) {}

  /** Take a slot now, or say in how many ms one frees up. */
  take(): { ok: true } | { ok: false; retryInMs: number } {
    const now = this.clock.mono();
    while (this.times.length > 0 && now - (this.times[0] ?? 0) >= this.perMs) this.times.shift();
    if (this.times.length >= this.max) return { ok: false, retryInMs: Math.max(1, (this.times[0] ?? now) + this.perMs - now) };
    this.times.push(now);
    return { ok: true };
  }
}

export class RecentRequests<T> {
  private readonly map = new Map<string, T>();

  constructor(private readonly size: number) {}

  get(key: string): T | undefined {
    return this.map.get(key);
  }

  delete(key: string): void {
    this.map.delete(key);
  }

  set(key: string, value: T): void {
    this.map.delete(key);
    this.map.set(key, value);
    while (this.map.size > this.size) {
      const oldest = this.map.keys().next().value as string;
      this.map.delete(oldest);
    }
  }
}

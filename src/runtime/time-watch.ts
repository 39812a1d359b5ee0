/**
 * A Pi has no real-time clock: until NTP syncs, the wall clock can be days or years
 * off (docs/field-notes.md#no-real-time-clock). Two defences:
 * - `trusted()`: a wall clock before MIN_PLAUSIBLE_MS cannot be right (it predates
 *   this software); readings stamped then get quality "uncertain".
 * - `check()`, called before every stamp: a wall-clock step (wall time moved by more
 *   than `thresholdMs` more or less than monotonic time) is reported once, with the
 *   offset. The runtime commits everything stamped with the old clock first and emits
 *   a `clock_step` event naming the last seq it stamped, so a consumer can correct
 *   `ts` of readings up to that seq by adding `offset_ms`.
 */
import type { Clock } from '../core/clock.js';
import { MIN_PLAUSIBLE_MS } from '../core/clock-trust.js';

export { MIN_PLAUSIBLE_MS };

export class TimeWatch {
  private base: { wall: number; mono: number };

  constructor(
    private readonly clock: Clock,
    private readonly onStep: (offsetMs: number, from: number, to: number) => void,
    private readonly thresholdMs = 2000,
  ) {
    this.base = { wall: clock.now(), mono: clock.mono() };
  }

  trusted(): boolean {
    return this.clock.now() >= MIN_PLAUSIBLE_MS;
  }

  check(): void {
    const wall = this.clock.now();
    const mono = this.clock.mono();
    const expected = this.base.wall + (mono - this.base.mono);
    const offset = wall - expected;
    if (Math.abs(offset) > this.thresholdMs) {
      this.base = { wall, mono };
      this.onStep(Math.round(offset), Math.round(expected), wall);
    }
  }
}

/**
 * Time in the buffer is measured in time, not wall-clock arithmetic
 * (docs/field-notes.md#fake-hwclock-step).
 *
 * A Pi without RTC boots with the clock of its last shutdown (fake-hwclock), then NTP
 * steps it forward by however long it was off: a +20 d step once expired a whole
 * buffer as `max_age`, and a step back made ages negative. So a row's age is counted
 * on a "buffer clock" that only moves with the monotonic clock:
 *
 * - within one boot (same kernel boot id) the buffer clock is the saved value plus the
 *   monotonic time elapsed since it was saved, whatever the wall clock did;
 * - across a reboot, the time the gateway was off is added only when the wall clock
 *   vouches for it (plausible before and after, and the gap between 0 and a year);
 *   otherwise nothing is added: an old reading then lives a little longer, it is
 *   never expired early.
 *
 * The buffer saves `{boot, mono, bt, wall}` at open, every expiry tick and at close.
 */
import { MIN_PLAUSIBLE_MS } from '../core/clock-trust.js';
import { readBootId, UNKNOWN_BOOT, type BootId } from './boot-id.js';

export interface BufferTimeSaved {
  boot: string;
  mono: number;
  bt: number;
  wall: number;
}

export interface TimeSources {
  /** Monotonic ms; within one boot it never jumps. */
  mono(): number;
  /** Wall-clock epoch ms. */
  wall(): number;
  /** Identifies the current boot (a new value after every reboot); `unknown` never matches a saved one. */
  bootId: string;
  /** Where the boot id came from (boot-id.ts), when it is the machine's. */
  bootIdSource?: BootId['source'];
  /** Why there is no boot id, to log once. */
  bootIdProblem?: string;
}

const YEAR_MS = 366 * 86_400_000;

export class BufferTime {
  private readonly base: number;

  constructor(
    private readonly src: TimeSources,
    saved: BufferTimeSaved | undefined,
  ) {
    const mono = src.mono();
    if (!saved) {
      this.base = -mono;
    } else if (saved.boot === src.bootId && src.bootId !== UNKNOWN_BOOT && mono >= saved.mono) {
      this.base = saved.bt - saved.mono;
    } else {
      const wall = src.wall();
      const gap = wall - saved.wall;
      const vouched = saved.wall >= MIN_PLAUSIBLE_MS && wall >= MIN_PLAUSIBLE_MS && gap >= 0 && gap <= YEAR_MS;
      this.base = saved.bt + (vouched ? gap : 0) - mono;
    }
  }

  /** Buffer-clock ms now. */
  now(): number {
    return this.base + this.src.mono();
  }

  /** Age in ms of something stamped `at` on the buffer clock; never negative. */
  age(at: number): number {
    return Math.max(0, this.now() - at);
  }

  snapshot(): BufferTimeSaved {
    return { boot: this.src.bootId, mono: this.src.mono(), bt: this.now(), wall: this.src.wall() };
  }
}

/** The machine's own sources: CLOCK_MONOTONIC (since boot) and the kernel's boot id (boot-id.ts). */
export function systemTimeSources(boot: BootId = readBootId()): TimeSources {
  // No boot id (not Linux, /proc hidden and no CITYGATE_BOOT_ID): every start counts as a new boot.
  return {
    mono: () => Number(process.hrtime.bigint() / 1_000_000n),
    wall: () => Date.now(),
    bootId: boot.id,
    bootIdSource: boot.source,
    ...(boot.problem ? { bootIdProblem: boot.problem } : {}),
  };
}

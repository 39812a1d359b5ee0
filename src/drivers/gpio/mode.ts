/**
 * What the three gpio modes share: the running pieces a mode gets, a drift-free periodic
 * timer on the injected clock, and the rule for a line that stops answering.
 */
import type { Clock } from '../../core/clock.js';
import type { DriverContext } from '../../core/driver.js';
import { describeError } from '../../core/errors.js';
import type { GpioLine, Level } from '../../ports/gpio/port.js';
import type { LoopLag } from './loop-lag.js';
import type { GpioSettings } from './schema.js';

/** Consecutive failed reads after which the driver gives up and asks for a restart. */
export const MAX_READ_FAILURES = 3;

export interface ModeEnv {
  ctx: DriverContext;
  line: GpioLine;
  settings: GpioSettings;
  /** `gpio device "rain" (GPIO 17)`: the prefix of every message. */
  where: string;
  /** The event-loop stall monitor a counter uses (default: EventLoopLag, perf_hooks). */
  loopLag?: ((resolutionMs: number) => LoopLag) | undefined;
}

/** A running mode. `stop()` is called once, before the line is closed; it must not throw. */
export interface ModeRunner {
  stop(): Promise<void>;
}

/**
 * Calls `fn` every `periodMs`, anchored to the start so ticks do not drift; a late event
 * loop skips missed ticks rather than bursting. Returns a cancel function.
 */
export function every(clock: Clock, periodMs: number, fn: () => void): () => void {
  const t0 = clock.mono();
  let n = 0;
  let cancel: (() => void) | undefined;
  let stopped = false;
  const schedule = (): void => {
    n = Math.max(n + 1, Math.floor((clock.mono() - t0) / periodMs) + 1);
    cancel = clock.setTimer(t0 + n * periodMs - clock.mono(), tick);
  };
  const tick = (): void => {
    if (stopped) return;
    fn();
    if (!stopped) schedule();
  };
  schedule();
  return () => {
    stopped = true;
    cancel?.();
  };
}

/**
 * Reads the line for a heartbeat. Failures go to health; after MAX_READ_FAILURES in a row
 * the line is considered lost (unexported under us, kernel error) and `ctx.fail` restarts
 * the driver, which re-exports it. Never throws.
 */
export class LineReader {
  private failures = 0;

  constructor(private readonly env: ModeEnv) {}

  async read(): Promise<Level | undefined> {
    const { ctx, line, where } = this.env;
    try {
      const v = await line.read();
      this.failures = 0;
      return v;
    } catch (err) {
      this.failures++;
      ctx.health.error(err, where);
      if (this.failures === MAX_READ_FAILURES) {
        ctx.fail(new Error(`${where}: ${MAX_READ_FAILURES} reads failed in a row, last: ${describeError(err)}`, { cause: err }));
      }
      return undefined;
    }
  }
}

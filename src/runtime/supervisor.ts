/**
 * Runs one driver and keeps it running. A driver whose `start()` rejects, or that
 * calls `ctx.fail()`, is stopped and started again after a backoff (with jitter,
 * capped); a driver can never take the gateway down (zigbee2mqtt's controller does
 * the same for its extensions). Each run gets a fresh driver instance and a fresh
 * abort signal, so state from a wedged run cannot leak into the next.
 */
import type { Logger } from 'pino';
import type { Clock } from '../core/clock.js';
import { Backoff } from '../core/backoff.js';
import { describeError } from '../core/errors.js';
import type { Driver, DriverContext } from '../core/driver.js';
import { driverScope } from './fault-domain.js';

export interface SupervisorOptions {
  device: string;
  create: () => Driver;
  /** Builds the context for one run; `fail` is wired to this supervisor. */
  context: (signal: AbortSignal, fail: (err: unknown) => void) => DriverContext;
  clock: Clock;
  log: Logger;
  onFailure?: (err: unknown) => void;
  backoff?: { base: number; max: number };
  /** A run that lasted this long resets the backoff. */
  stableAfterMs?: number;
  /** Longest a driver's start() may take before the run counts as failed (default 30 s). */
  startTimeoutMs?: number;
  /** Longest a driver's stop() may take before it is abandoned (default 10 s). */
  stopTimeoutMs?: number;
}

/** Settles like `p`, or rejects with `message` after `ms` on the given clock. */
function withTimeout<T>(clock: Clock, p: Promise<T>, ms: number, message: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const cancel = clock.setTimer(ms, () => reject(new Error(message)));
    p.then(
      (v) => {
        cancel();
        resolve(v);
      },
      (err: unknown) => {
        cancel();
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

export class Supervisor {
  private driver: Driver | undefined;
  private ac: AbortController | undefined;
  private cancelRetry: (() => void) | undefined;
  private stopped = true;
  private runStartedAt = 0;
  private readonly backoff: Backoff;
  restarts = 0;

  constructor(private readonly o: SupervisorOptions) {
    this.backoff = new Backoff({ base: o.backoff?.base ?? 1000, max: o.backoff?.max ?? 60_000, jitter: 0.3 }, () =>
      o.clock.random(),
    );
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.run();
  }

  private async run(): Promise<void> {
    this.cancelRetry = undefined;
    if (this.stopped) return;
    const ac = new AbortController();
    this.ac = ac;
    let failed = false;
    const fail = (err: unknown): void => {
      if (failed || ac.signal.aborted || this.stopped) return;
      failed = true;
      void this.failed(ac, err);
    };
    try {
      // Everything the driver schedules inherits this scope (see fault-domain.ts).
      await driverScope.run({ device: this.o.device, fail }, async () => {
        const driver = this.o.create();
        this.driver = driver;
        this.runStartedAt = this.o.clock.mono();
        const ms = this.o.startTimeoutMs ?? 30_000;
        await withTimeout(this.o.clock, Promise.resolve().then(() => driver.start(this.o.context(ac.signal, fail))), ms, `start() did not finish within ${ms / 1000}s`);
      });
    } catch (err) {
      fail(err);
    }
  }

  private async failed(ac: AbortController, err: unknown): Promise<void> {
    this.o.log.error({ device: this.o.device }, `device ${this.o.device}: driver failed: ${describeError(err)}`);
    this.o.onFailure?.(err);
    await this.stopDriver(ac);
    if (this.stopped) return;
    if (this.o.clock.mono() - this.runStartedAt > (this.o.stableAfterMs ?? 60_000)) this.backoff.reset();
    const delay = this.backoff.next();
    this.restarts++;
    this.o.log.info({ device: this.o.device, delay }, `device ${this.o.device}: restarting driver in ${delay}ms`);
    this.cancelRetry = this.o.clock.setTimer(delay, () => void this.run());
  }

  private async stopDriver(ac: AbortController): Promise<void> {
    ac.abort(new Error('driver stopping'));
    const d = this.driver;
    this.driver = undefined;
    if (!d) return;
    try {
      const ms = this.o.stopTimeoutMs ?? 10_000;
      await withTimeout(this.o.clock, Promise.resolve().then(() => d.stop()), ms, `stop() did not finish within ${ms / 1000}s: abandoned`);
    } catch (err) {
      this.o.log.warn({ device: this.o.device }, `device ${this.o.device}: stop failed: ${describeError(err)}`);
    }
  }

  /** The running driver (for actions), if any. */
  current(): Driver | undefined {
    return this.driver;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelRetry?.();
    if (this.ac) await this.stopDriver(this.ac);
  }
}

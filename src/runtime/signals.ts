/**
 * The service's lifetime. `citygate run` lives until it is told to stop, whatever the
 * uplink and the status page do: a keep-alive handle holds the event loop open (every
 * clock timer is unref'd, so without it Node exits with code 13 the moment the last
 * socket closes — docs/field-notes.md#unrefd-timers-and-exit-13).
 *
 * Handlers come first, before anything starts: SIGTERM (systemd) and SIGINT (Ctrl-C)
 * stop the gateway in order within a bounded time, even while it is still starting;
 * a second signal, or the deadline passing, exits at once (everything committed is
 * safe on disk). Uncaught exceptions go to the fault domains (fault-domain.ts).
 *
 * Every exit is logged with its code (documented in the README):
 *   0 stopped by a signal, cleanly · 1 user error (config, a second gateway on the
 *   data_dir) · 2 runtime failure (start failed, a bug outside any driver, a stop that
 *   failed or overran) · 130 a second signal while stopping.
 */
import type { Logger } from 'pino';
import { UserError, describeError } from '../core/errors.js';
import { installFaultHandlers } from './fault-domain.js';

export interface ServiceHooks {
  start: () => Promise<void>;
  stop: () => Promise<void>;
  log: Logger;
  deadlineMs: number;
  /** Called once the service is up (systemd readiness). */
  ready?: () => Promise<unknown>;
}

export async function runService(h: ServiceHooks): Promise<number> {
  const { log } = h;
  const keepAlive = setInterval(() => {}, 1 << 30);
  let stopRequested: NodeJS.Signals | undefined;
  let wake: (() => void) | undefined;
  let stopping = false;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (stopping) {
      log.warn(`${sig} again while stopping: exiting now (code 130); committed readings are safe on disk`);
      process.exit(130);
    }
    stopRequested ??= sig;
    wake?.();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  installFaultHandlers(log);
  try {
    try {
      await h.start();
    } catch (err) {
      const code = err instanceof UserError ? 1 : 2;
      log.error(`not started: ${describeError(err)} (exit ${code})`);
      // Also as a plain line, like every CLI error: a technician reads this one.
      process.stderr.write(`citygate: ${describeError(err)}\n`);
      await h.stop().catch(() => undefined);
      return code;
    }
    await h.ready?.();
    if (!stopRequested) await new Promise<void>((resolve) => (wake = resolve));
    stopping = true;
    const sig = stopRequested ?? 'SIGTERM';
    log.info(`${sig}: stopping (at most ${Math.round(h.deadlineMs / 1000)}s)`);
    const hard = setTimeout(() => {
      log.error('stop took too long: exiting (code 2); committed readings are safe on disk');
      process.exit(2);
    }, h.deadlineMs);
    try {
      await h.stop();
    } catch (err) {
      log.error(`stop failed: ${describeError(err)} (exit 2)`);
      return 2;
    } finally {
      clearTimeout(hard);
    }
    log.info(`stopped by ${sig} (exit 0)`);
    return 0;
  } finally {
    clearInterval(keepAlive);
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}

/** For commands that already started their work: wait for a signal, then stop. */
export function runUntilSignal(stop: () => Promise<void>, log: Logger, deadlineMs: number): Promise<number> {
  return runService({ start: () => Promise.resolve(), stop, log, deadlineMs });
}

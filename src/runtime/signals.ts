/**
 * Graceful shutdown for the service: SIGTERM (systemd) and SIGINT (Ctrl-C) stop the
 * gateway in order within a bounded time; a second signal, or the deadline passing,
 * exits at once (everything committed is already safe on disk). An uncaught
 * exception is logged, committed readings stay safe, and the process exits 2 so
 * systemd restarts it.
 */
import type { Logger } from 'pino';
import { describeError } from '../core/errors.js';

export function runUntilSignal(stop: () => Promise<void>, log: Logger, deadlineMs: number): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (sig: NodeJS.Signals): void => {
      if (stopping) {
        log.warn(`${sig} again: exiting now`);
        process.exit(130);
      }
      stopping = true;
      log.info(`${sig}: stopping (at most ${Math.round(deadlineMs / 1000)}s)`);
      const hard = setTimeout(() => {
        log.error('stop took too long: exiting (committed readings are safe on disk)');
        process.exit(2);
      }, deadlineMs);
      hard.unref();
      stop().then(
        () => {
          clearTimeout(hard);
          resolve(0);
        },
        (err) => {
          log.error(`stop failed: ${describeError(err)}`);
          resolve(2);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    process.on('uncaughtException', (err) => {
      log.fatal({ err }, `uncaught exception: ${describeError(err)} — exiting; committed readings are safe`);
      process.exit(2);
    });
  });
}

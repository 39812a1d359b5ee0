/**
 * Graceful shutdown for the service: SIGTERM (systemd) and SIGINT (Ctrl-C) stop the
 * gateway in order within a bounded time; a second signal, or the deadline passing,
 * exits at once (everything committed is already safe on disk). Uncaught exceptions
 * go to the fault domains (fault-domain.ts): a driver's restarts that driver; any
 * other exits 2 so systemd restarts the process.
 */
import type { Logger } from 'pino';
import { describeError } from '../core/errors.js';
import { installFaultHandlers } from './fault-domain.js';

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
    installFaultHandlers(log);
  });
}

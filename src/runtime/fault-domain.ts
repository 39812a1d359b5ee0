/**
 * Fault domains: an exception thrown from a driver's own timer or callback must not
 * take the gateway down (README.md#the-delivery-promise, docs/architecture.md#the-data-path).
 * The supervisor runs each driver inside an AsyncLocalStorage scope; every timer,
 * promise and I/O callback the driver creates inherits it. When an uncaught exception
 * or unhandled rejection arrives, the scope (if any) names the driver, and that driver
 * alone is failed and restarted. Anything outside a driver scope is a real bug: log it
 * and exit 2 so systemd restarts us (committed readings are on disk already).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Logger } from 'pino';
import { describeError } from '../core/errors.js';

export interface DriverScope {
  device: string;
  fail(err: unknown): void;
}

export const driverScope = new AsyncLocalStorage<DriverScope>();

let installed = false;

export function installFaultHandlers(log: Logger, exit: (code: number) => void = (c) => process.exit(c)): void {
  if (installed) return;
  installed = true;
  const handle = (kind: string) => (err: unknown) => {
    const scope = driverScope.getStore();
    if (scope) {
      log.error({ device: scope.device }, `device ${scope.device}: ${kind} in its driver: ${describeError(err)} — restarting the driver`);
      scope.fail(err);
      return;
    }
    log.fatal({ err }, `${kind}: ${describeError(err)} — exiting; committed readings are safe on disk`);
    exit(2);
  };
  process.on('uncaughtException', handle('uncaught exception'));
  process.on('unhandledRejection', handle('unhandled rejection'));
}

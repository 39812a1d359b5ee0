/**
 * systemd integration for `citygate run` (deploy/citygate.service: Type=notify,
 * WatchdogSec=).
 *
 * - notifyReady(): READY=1 once buffer, uplink and drivers are started.
 * - startWatchdog(): WATCHDOG=1 every WATCHDOG_USEC/3 while the gateway is alive.
 *   "Alive" is two things only: the event loop turns (the ping is a timer: a hung
 *   loop sends none) and the buffer commits (`alive()` returns why not, e.g. the
 *   last commit failed). It is never gated on the uplink: a broker that is away for
 *   a week must not make systemd restart the gateway in a loop — the buffer is what
 *   carries the readings through that. Missing pings for WatchdogSec make systemd
 *   kill and restart the service (Restart=always).
 *
 * How: the `sd-notify` npm package compiles against libsystemd and breaks `npm
 * install` where libsystemd-dev is missing (and Node has no unix datagram sockets),
 * so we call the `systemd-notify` tool, part of systemd and present whenever
 * systemd runs us; it is a child process, hence NotifyAccess=all in the unit.
 * Outside systemd (no NOTIFY_SOCKET / WATCHDOG_USEC) nothing is sent. A failed
 * notification is logged, never fatal.
 */
import { execFile } from 'node:child_process';
import type { Logger } from 'pino';

function send(states: string[], env: NodeJS.ProcessEnv): Promise<Error | null> {
  return new Promise((resolve) => {
    execFile('systemd-notify', [...states, `--pid=${process.pid}`], { env, timeout: 5000 }, (err) => resolve(err));
  });
}

export async function notifyReady(log: Logger, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  if (!env.NOTIFY_SOCKET) return false;
  const err = await send(['--ready'], env);
  if (err) log.warn(`systemd-notify failed (${err.message}); systemd may time out the start`);
  return !err;
}

export interface WatchdogOptions {
  log: Logger;
  /** Undefined while the gateway is alive; otherwise why the watchdog must not be fed. */
  alive(): string | undefined;
  env?: NodeJS.ProcessEnv;
}

export interface Watchdog {
  /** Milliseconds between pings. */
  readonly intervalMs: number;
  stop(): void;
}

/**
 * Starts pinging systemd's watchdog, or returns undefined when systemd did not ask
 * for one (no WATCHDOG_USEC, or WATCHDOG_PID names another process).
 */
export function startWatchdog(opts: WatchdogOptions): Watchdog | undefined {
  const env = opts.env ?? process.env;
  const usec = Number(env.WATCHDOG_USEC);
  if (!env.NOTIFY_SOCKET || !Number.isFinite(usec) || usec <= 0) return undefined;
  if (env.WATCHDOG_PID && Number(env.WATCHDOG_PID) !== process.pid) return undefined;
  // A third of the period: a late timer on a busy Pi, or a slow fork of
  // systemd-notify, still lands inside the deadline.
  const intervalMs = Math.max(100, Math.floor(usec / 1000 / 3));
  let withheld: string | undefined;
  let inFlight = false;
  const tick = (): void => {
    const reason = opts.alive();
    if (reason !== undefined) {
      if (withheld === undefined) opts.log.error(`systemd watchdog: not pinging (${reason}); systemd restarts citygate if this lasts`);
      withheld = reason;
      return;
    }
    if (withheld !== undefined) opts.log.info('systemd watchdog: pinging again');
    withheld = undefined;
    if (inFlight) return;
    inFlight = true;
    void send(['WATCHDOG=1'], env).then((err) => {
      inFlight = false;
      if (err) opts.log.warn(`systemd-notify WATCHDOG=1 failed (${err.message})`);
    });
  };
  // Unref'd: the watchdog never keeps the process alive by itself.
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  tick();
  return { intervalMs, stop: () => clearInterval(timer) };
}

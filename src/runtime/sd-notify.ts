/**
 * Tell systemd the service is ready (Type=notify). docs/field-notes.md#sd-notify-needs-libsystemd: the `sd-notify` npm
 * package compiles against libsystemd and breaks `npm install` where it is missing,
 * so we call the `systemd-notify` tool (part of systemd, always there when systemd
 * runs us; the unit sets NotifyAccess=all). Outside systemd (no NOTIFY_SOCKET) this
 * does nothing; a failure is logged, never fatal.
 */
import { execFile } from 'node:child_process';
import type { Logger } from 'pino';

export function notifyReady(log: Logger, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  if (!env.NOTIFY_SOCKET) return Promise.resolve(false);
  return new Promise((resolve) => {
    execFile('systemd-notify', ['--ready', `--pid=${process.pid}`], { env, timeout: 5000 }, (err) => {
      if (err) log.warn(`systemd-notify failed (${err.message}); systemd may time out the start`);
      resolve(!err);
    });
  });
}

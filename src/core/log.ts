/**
 * Logging with pino: JSON lines for machines (journald, log shippers), readable
 * colour output when stdout is a terminal. Secrets are redacted by key name wherever
 * they appear in a logged object.
 */
import { createRequire } from 'node:module';
import { pino, type Logger } from 'pino';

// pino-pretty is loaded only for a terminal: a service writing JSON never pays for it.
const require = createRequire(import.meta.url);

export type { Logger } from 'pino';

export const REDACT_KEYS = ['password', 'secret', 'token', 'key', 'passphrase', 'authorization'];

export interface LogOptions {
  level?: string;
  /** Force pretty (true) or JSON (false); default: pretty on a TTY. */
  pretty?: boolean;
  /** Where to write; default stdout. */
  destination?: NodeJS.WritableStream;
}

export function createLogger(opts: LogOptions = {}): Logger {
  const level = opts.level ?? process.env.CITYGATE_LOG_LEVEL ?? 'info';
  const redact = {
    paths: REDACT_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]),
    censor: '[redacted]',
  };
  const usePretty = opts.pretty ?? Boolean(process.stdout.isTTY);
  if (usePretty) {
    const pretty = require('pino-pretty') as typeof import('pino-pretty');
    const stream = pretty({
      colorize: true,
      translateTime: 'HH:MM:ss.l',
      ignore: 'pid,hostname',
      destination: opts.destination ?? 1,
      sync: true,
    });
    return pino({ level, redact, base: undefined }, stream);
  }
  return pino({ level, redact, base: undefined }, opts.destination ?? pino.destination({ sync: false }));
}

/** A logger that drops everything (tests, benchmarks). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

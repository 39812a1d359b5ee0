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
    return withoutRepeatedBindings(pino({ level, redact, base: undefined, hooks: { logMethod: dropBoundFields } }, stream));
  }
  return withoutRepeatedBindings(pino({ level, redact, base: undefined, hooks: { logMethod: dropBoundFields } }, opts.destination ?? pino.destination({ sync: false })));
}

/**
 * pino appends a child's bindings to its parent's, so `log.child({ device })` under a
 * logger already bound to that device writes `"device":"pm",…,"device":"pm"`: JSON with
 * duplicate keys, which log shippers treat differently. A child binds only what changes.
 */
export function withoutRepeatedBindings(log: Logger): Logger {
  // Children inherit from their parent (pino uses the prototype chain), so replacing
  // `child` on the root covers every descendant; `this` is the logger being extended.
  const original = log.child;
  log.child = function (this: Logger, bindings: Record<string, unknown>, options?: object) {
    const have = this.bindings();
    const fresh = Object.fromEntries(Object.entries(bindings).filter(([k, v]) => have[k] !== v));
    return original.call(this, fresh, options);
  } as unknown as Logger['child'];
  return log;
}

/**
 * The same for one line: `log.error({ device }, …)` on a logger bound to that device
 * would write the key twice. Fields the logger already carries with the same value are
 * left out of the line.
 */
function dropBoundFields(this: Logger, args: Parameters<Logger['info']>, method: (...a: unknown[]) => void): void {
  const first: unknown = args[0];
  if (first !== null && typeof first === 'object' && !(first instanceof Error)) {
    const have = this.bindings();
    const fields = first as Record<string, unknown>;
    if (Object.keys(fields).some((k) => k in have && have[k] === fields[k])) {
      args[0] = Object.fromEntries(Object.entries(fields).filter(([k, v]) => !(k in have && have[k] === v)));
    }
  }
  method.apply(this, args);
}

/** A logger that drops everything (tests, benchmarks). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/**
 * Config problems as people read them: `file:line:col: path: problem — expected`.
 * Every problem in a file is collected and reported at once (docs/architecture.md#errors).
 */
import { UserError } from '../core/errors.js';

export interface ConfigIssue {
  file: string;
  line: number;
  col: number;
  /** Dotted path like `devices[0].poll`, or '' for the whole file. */
  path: string;
  message: string;
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const k of path) {
    if (typeof k === 'number') out += `[${k}]`;
    else out += out === '' ? String(k) : `.${String(k)}`;
  }
  return out;
}

export function formatIssue(i: ConfigIssue): string {
  return `${i.file}:${i.line}:${i.col}: ${i.path ? `${i.path}: ` : ''}${i.message}`;
}

/** Thrown by loadConfigFile: a user error whose details are the formatted issues. */
export class ConfigError extends UserError {
  override name = 'ConfigError';
  constructor(
    readonly file: string,
    readonly issues: ConfigIssue[],
  ) {
    super(
      `${file}: ${issues.length} problem${issues.length === 1 ? '' : 's'} in the configuration`,
      [...issues.map(formatIssue), 'See boards/ for working examples and `citygate schema` for every key.'],
    );
  }
}

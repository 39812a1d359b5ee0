/**
 * `citygate validate FILE…`: every problem of every file as `file:line:col`, warnings
 * marked as such; one file's failure never stops the others being checked. `-` reads
 * the config from standard input (a generator's output), named `<stdin>` in messages.
 * Exit 0 when all files are valid, 1 when any has a problem (or, with --strict, a warning).
 */
import { readFileSync, readSync } from 'node:fs';
import type { Command } from 'commander';
import { checkConfigText, type CheckResult } from '../../config/load.js';
import { formatIssue } from '../../config/issues.js';
import { UserError, describeError } from '../../core/errors.js';
import { DRIVERS } from '../../drivers/registry.js';
import { configFileTooLarge, MAX_CONFIG_BYTES } from '../../config/size-limit.js';

interface ValidateOptions {
  strict?: boolean;
  strictEnv?: boolean;
  explain?: boolean;
}

const plural = (n: number, word: string, many = `${word}s`): string => `${n} ${n === 1 ? word : many}`;

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('check config files: every problem as file:line:col; exit 1 on any')
    .argument('<files...>', 'gateway YAML files (- for standard input)')
    .option('--strict', 'treat warnings (likely mistakes, unset ${ENV} variables) as errors')
    .option('--strict-env', 'treat unset ${ENV} variables as errors (they are warnings by default)')
    .option('--explain', 'also show what each driver will do (e.g. Modbus requests per poll)')
    .action((files: string[], opts: ValidateOptions) => {
      let bad = 0;
      for (const file of files) if (!validateOne(file, opts)) bad++;
      if (bad) throw new UserError(`${bad} of ${plural(files.length, 'file')} failed validation`);
    });
}

/** Check one file and print its findings; true when it passes. */
function validateOne(given: string, opts: ValidateOptions): boolean {
  const out = (line: string): boolean => process.stdout.write(`${line}\n`);
  if (given === '-') {
    const input = readStdin();
    if (typeof input !== 'string') {
      out(`${STDIN}: ${input.problem}`);
      return false;
    }
    return report(STDIN, input, opts, out);
  }
  const file = given;
  let text: string;
  const tooLarge = configFileTooLarge(file);
  if (tooLarge) {
    out(`${file}: ${tooLarge}`);
    return false;
  }
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied — run as the citygate user or check ls -l' : (code ?? describeError(err));
    out(`${file}: cannot read (${why})`);
    return false;
  }
  return report(file, text, opts, out);
}

const STDIN = '<stdin>';

/** Standard input, whole, or what is wrong with it (more than a config may be). */
function readStdin(): string | { problem: string } {
  const chunks: Buffer[] = [];
  let total = 0;
  const chunk = Buffer.alloc(64 * 1024);
  for (;;) {
    let n: number;
    try {
      n = readSync(0, chunk, 0, chunk.length, null);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10); // a non-blocking pipe with nothing yet
        continue;
      }
      if (code === 'EOF') break;
      return { problem: `cannot read (${code ?? describeError(err)})` };
    }
    if (n === 0) break;
    total += n;
    if (total > MAX_CONFIG_BYTES) return { problem: `more than the ${MAX_CONFIG_BYTES / 1024 / 1024} MiB a gateway config may be — is it the right input?` };
    chunks.push(Buffer.from(chunk.subarray(0, n)));
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Check one config's text and print its findings; true when it passes. */
function report(file: string, text: string, opts: ValidateOptions, out: (line: string) => boolean): boolean {
  let r: CheckResult;
  try {
    r = checkConfigText(text, file, { missingEnv: opts.strictEnv || opts.strict ? 'error' : 'warn' });
  } catch (err) {
    // A bug of ours, not the user's: say so, and carry on with the other files.
    out(`${file}:1:1: citygate could not check this file (${describeError(err)}) — please report it with the file`);
    return false;
  }
  const label = opts.strict ? 'error (--strict)' : 'warning';
  for (const w of r.warnings) out(`${formatIssue(w)} (${label})`);
  for (const i of r.issues) out(formatIssue(i));
  const problems = r.issues.length + (opts.strict ? r.warnings.length : 0);
  if (problems) {
    out(`${file}: ${plural(problems, 'problem')}`);
    return false;
  }
  const c = r.config;
  if (!c) {
    out(`${file}: no errors found, but fields with unset \${ENV} variables could not be checked (${plural(r.warnings.length, 'warning')})`);
    return true;
  }
  const enabled = c.devices.filter((d) => d.enabled !== false).length;
  const buses = Object.keys(c.buses).length;
  const warned = r.warnings.length ? `; ${plural(r.warnings.length, 'warning')}` : '';
  out(`${file}: ok — gateway ${c.gateway.id}, ${plural(c.devices.length, 'device')} (${enabled} enabled), ${plural(buses, 'bus', 'buses')}, uplink ${typeof c.uplink.url === 'string' ? c.uplink.url : c.uplink.url.join(', ')}${warned}`);
  if (opts.explain) {
    const used = new Set(c.devices.map((d) => d.driver));
    for (const def of DRIVERS) {
      const explained = used.has(def.name) ? def.explain?.(c) : undefined;
      if (explained) out(`\n${explained.trimEnd()}`);
    }
  }
  return true;
}

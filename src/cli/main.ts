/**
 * The citygate command line. Exit codes (docs/architecture.md#errors): 0 ok, 1 user error (a clear
 * message, never a stack trace), 2 runtime failure.
 *
 * Commands load lazily (commands/index.ts): `citygate validate …` imports the
 * validate command and what it needs, nothing else; `citygate --help` imports no
 * command at all. That keeps a technician's `--help` and every short command fast on
 * a Pi, and the service's memory free of the demo broker and the probes.
 */
import { Command, CommanderError } from 'commander';
import { UserError, describeError } from '../core/errors.js';
import { findCommand, registerListing } from './commands/index.js';
import { VERSION } from '../version.js';
import { quietOnClosedStdout } from './closed-stdout.js';

export async function main(argv: string[]): Promise<number> {
  quietOnClosedStdout();
  const program = new Command('citygate')
    .description('citygate: sensors in, durable buffer, MQTT out')
    .version(VERSION)
    .exitOverride()
    .configureOutput({ outputError: (str, write) => write(str) });
  try {
    const wanted = commandWanted(argv);
    if (wanted.unknownHelp !== undefined) {
      process.stderr.write(`citygate: unknown command ${wanted.unknownHelp} (citygate --help lists them)\n`);
      return 1;
    }
    if (wanted.entry) (await wanted.entry.load())(program);
    else registerListing(program);
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    return reportError(err);
  }
}

/**
 * Which command the arguments name: the first word that is not an option
 * (top-level options are only --help and --version), or the word after `help`.
 */
function commandWanted(argv: string[]): { entry?: ReturnType<typeof findCommand>; unknownHelp?: string } {
  const words = argv.filter((a) => !a.startsWith('-'));
  const [first, second] = words;
  if (first === 'help') {
    if (second === undefined) return {};
    const entry = findCommand(second);
    return entry ? { entry } : { unknownHelp: second };
  }
  return first === undefined ? {} : { entry: findCommand(first) };
}

export function reportError(err: unknown): number {
  if (err instanceof CommanderError) {
    // commander already printed its message (unknown option, missing argument …)
    return err.exitCode === 0 ? 0 : 1;
  }
  if (err instanceof UserError) {
    process.stderr.write(`citygate: ${err.message}\n`);
    for (const line of err.details) process.stderr.write(`${line}\n`);
    return 1;
  }
  process.stderr.write(`citygate: ${describeError(err)}\n`);
  if (process.env.CITYGATE_DEBUG && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  return 2;
}

const code = await main(process.argv.slice(2));
if (code !== 0) process.exitCode = code;

/**
 * The citygate command line. Exit codes (docs/architecture.md#errors): 0 ok, 1 user error (a clear
 * message, never a stack trace), 2 runtime failure.
 */
import { Command, CommanderError } from 'commander';
import { UserError, describeError } from '../core/errors.js';
import { registerCommands } from './commands/index.js';
import { VERSION } from '../version.js';
import { registerFleet } from './commands/fleet.js'; // fleet view (issue #10)

export async function main(argv: string[]): Promise<number> {
  const program = new Command('citygate')
    .description('citygate: sensors in, durable buffer, MQTT out')
    .version(VERSION)
    .exitOverride()
    .configureOutput({ outputError: (str, write) => write(str) });
  registerCommands(program);
  registerFleet(program); // fleet view (issue #10): `citygate fleet`
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    return reportError(err);
  }
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

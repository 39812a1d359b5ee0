import type { Command } from 'commander';
import { registerProbe } from '../probe/index.js';
import { registerSchema } from './schema.js';

/** Every top-level command, in the order `citygate --help` lists them. */
export function registerCommands(program: Command): void {
  registerSchema(program);
  registerProbe(program);
}

import type { Command } from 'commander';
import { registerProbe } from '../probe/index.js';
import { registerSchema } from './schema.js';
import { registerValidate } from './validate.js';

/** Every top-level command, in the order `citygate --help` lists them. */
export function registerCommands(program: Command): void {
  registerValidate(program);
  registerSchema(program);
  registerProbe(program);
}

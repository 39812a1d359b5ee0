import type { Command } from 'commander';
import { registerProbe } from '../probe/index.js';
import { registerSchema } from './schema.js';
import { registerValidate } from './validate.js';
import { registerRun } from './run.js';
import { registerDemo } from './demo.js';
import { registerQueue } from './queue.js';
import { registerStatus } from './status.js';
import { registerDoctor } from './doctor.js';

/** Every top-level command, in the order `citygate --help` lists them. */
export function registerCommands(program: Command): void {
  registerRun(program);
  registerDemo(program);
  registerValidate(program);
  registerSchema(program);
  registerProbe(program);
  registerStatus(program);
  registerQueue(program);
  registerDoctor(program);
}

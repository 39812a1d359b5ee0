import type { Command } from 'commander';
import { jsonSchema } from '../../config/schema.js';

export function registerSchema(program: Command): void {
  program
    .command('schema')
    .description('print the JSON Schema of the gateway config (for editors: yaml-language-server)')
    .action(() => {
      process.stdout.write(`${JSON.stringify(jsonSchema(), null, 2)}\n`);
    });
}

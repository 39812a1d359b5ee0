import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { jsonSchema } from '../../config/schema.js';
import { referencePages } from '../../config/reference.js';
import { outputDir } from '../out-dir.js';

export function registerSchema(program: Command): void {
  program
    .command('schema')
    .description('print the JSON Schema of the gateway config (for editors: yaml-language-server)')
    .option('--docs <dir>', 'instead, write the config reference (one markdown page per section) into this directory')
    .action((opts: { docs?: string }) => {
      if (opts.docs) {
        outputDir('--docs', opts.docs);
        for (const [name, text] of Object.entries(referencePages(jsonSchema()))) writeFileSync(join(opts.docs, name), text);
        return;
      }
      process.stdout.write(`${JSON.stringify(jsonSchema(), null, 2)}\n`);
    });
}

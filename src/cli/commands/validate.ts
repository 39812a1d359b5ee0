import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { checkConfigText } from '../../config/load.js';
import { formatIssue } from '../../config/issues.js';
import { UserError } from '../../core/errors.js';
import { DRIVERS } from '../../drivers/registry.js';

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('check config files: every problem as file:line:col; exit 1 on any')
    .argument('<files...>', 'gateway YAML files')
    .option('--strict-env', 'treat unset ${ENV} variables as errors (they are warnings by default)')
    .option('--explain', 'also show what each driver will do (e.g. Modbus requests per poll)')
    .action((files: string[], opts: { strictEnv?: boolean; explain?: boolean }) => {
      let bad = 0;
      for (const file of files) {
        let text: string;
        try {
          text = readFileSync(file, 'utf8');
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          process.stdout.write(`${file}: cannot read (${code === 'ENOENT' ? 'no such file' : code})\n`);
          bad++;
          continue;
        }
        const r = checkConfigText(text, file, { missingEnv: opts.strictEnv ? 'error' : 'warn' });
        for (const w of r.warnings) process.stdout.write(`${formatIssue(w)} (warning)\n`);
        if (!r.config) {
          for (const i of r.issues) process.stdout.write(`${formatIssue(i)}\n`);
          process.stdout.write(`${file}: ${r.issues.length} problem${r.issues.length === 1 ? '' : 's'}\n`);
          bad++;
          continue;
        }
        const c = r.config;
        const enabled = c.devices.filter((d) => (d as { enabled?: boolean }).enabled !== false).length;
        process.stdout.write(
          `${file}: ok — gateway ${c.gateway.id}, ${c.devices.length} device${c.devices.length === 1 ? '' : 's'} (${enabled} enabled), ${Object.keys(c.buses).length} bus${Object.keys(c.buses).length === 1 ? '' : 'es'}, uplink ${c.uplink.url}\n`,
        );
        if (opts.explain) {
          const used = new Set(c.devices.map((d) => d.driver));
          for (const def of DRIVERS) {
            const text = used.has(def.name) ? def.explain?.(c) : undefined;
            if (text) process.stdout.write(`\n${text.trimEnd()}\n`);
          }
        }
      }
      if (bad) throw new UserError(`${bad} of ${files.length} file${files.length === 1 ? '' : 's'} failed validation`);
    });
}

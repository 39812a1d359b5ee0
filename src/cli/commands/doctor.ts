/** `citygate doctor`: is this gateway ready to run? Exit 0 all ok, 2 when a check fails. */
import type { Command } from 'commander';
import { loadConfigFile } from '../../config/load.js';
import { ConfigError, formatIssue } from '../../config/issues.js';
import { withConfig } from '../config-arg.js';
import type { CheckResult } from '../../doctor/checks.js';

const MARK = { ok: '✓', warn: '!', fail: '✗' } as const;

export function registerDoctor(program: Command): void {
  withConfig(program.command('doctor').description('check permissions, device nodes, clock, disk, broker reachability and TLS, config'))
    .option('--no-broker', 'skip the broker checks (offline install)')
    .action(async (opts: { config: string; broker: boolean }) => {
      const { checkBroker, checkClock, checkDataDir, checkDevices, checkModbusTcp } = await import('../../doctor/checks.js');
      const results: CheckResult[] = [];
      const print = (r: CheckResult): void => {
        results.push(r);
        process.stdout.write(`${MARK[r.verdict]} ${r.name.padEnd(14)} ${r.detail}\n`);
      };
      let config;
      try {
        const loaded = loadConfigFile(opts.config, { missingEnv: 'error' });
        config = loaded.config;
        print({ name: 'config', verdict: loaded.warnings.length ? 'warn' : 'ok', detail: loaded.warnings.length ? loaded.warnings.map(formatIssue).join('; ') : `${opts.config} is valid` });
      } catch (err) {
        const lines = err instanceof ConfigError ? err.details.slice(0, -1) : [String((err as Error).message)];
        print({ name: 'config', verdict: 'fail', detail: `${opts.config}: ${lines.join('\n                 ')}` });
        process.exitCode = 2;
        return;
      }
      for (const r of checkDataDir(config)) print(r);
      print(checkClock());
      for (const r of await checkDevices(config)) print(r);
      for (const r of await checkModbusTcp(config)) print(r);
      if (opts.broker) for (const r of await checkBroker(config)) print(r);
      const failed = results.filter((r) => r.verdict === 'fail').length;
      const warned = results.filter((r) => r.verdict === 'warn').length;
      const warnings = `${warned} warning${warned === 1 ? '' : 's'} (!)`;
      process.stdout.write(
        failed
          ? `\n${failed} check${failed === 1 ? '' : 's'} failed${warned ? `, ${warnings}` : ''}\n`
          : warned
            ? `\nno check failed, but read the ${warnings} above\n`
            : '\nall checks passed\n',
      );
      if (failed) process.exitCode = 2;
    });
}

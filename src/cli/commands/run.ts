import type { Command } from 'commander';
import { loadConfigFile } from '../../config/load.js';
import { formatIssue } from '../../config/issues.js';
import { createLogger } from '../../core/log.js';
import { Gateway } from '../../runtime/gateway.js';
import { runUntilSignal } from '../../runtime/signals.js';
import { notifyReady, startWatchdog } from '../../runtime/sd-notify.js';

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run the gateway service (systemd runs this)')
    .requiredOption('-c, --config <file>', 'gateway YAML', '/etc/citygate/gateway.yaml')
    .option('--log-level <level>', 'trace, debug, info, warn, error', 'info')
    .option('--drain <seconds>', 'on stop, keep delivering for at most this long', '5')
    .action(async (opts: { config: string; logLevel: string; drain: string }) => {
      const log = createLogger({ level: opts.logLevel });
      const { config, warnings } = loadConfigFile(opts.config, { missingEnv: 'error' });
      for (const w of warnings) log.warn(formatIssue(w));
      const drainMs = Math.max(0, Number(opts.drain) * 1000 || 0);
      const gateway = new Gateway(config, { log, drainMs });
      await gateway.start();
      await notifyReady(log);
      const watchdog = startWatchdog({ log, alive: () => gateway.liveness() });
      process.exitCode = await runUntilSignal(() => gateway.stop(), log, drainMs + 10_000);
      watchdog?.stop();
    });
}

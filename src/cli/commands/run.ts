import type { Command } from 'commander';
import { loadConfigFile } from '../../config/load.js';
import { formatIssue } from '../../config/issues.js';
import { createLogger } from '../../core/log.js';
import { Gateway } from '../../runtime/gateway.js';
import { runUntilSignal } from '../../runtime/signals.js';
import { notifyReady } from '../../runtime/sd-notify.js';

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
      const gateway = new Gateway(config, { log, drainMs, configFile: opts.config });
      await gateway.start();
      // SIGHUP (systemctl reload): apply the file in place (src/control/reload.ts, issue #10).
      process.on('SIGHUP', () => {
        log.info(`SIGHUP: reloading ${opts.config}`);
        void gateway.reloader?.reloadFromFile().then((r) => (r.ok ? undefined : log.warn(`config reload refused: ${r.error}`)));
      });
      await notifyReady(log);
      process.exitCode = await runUntilSignal(() => gateway.stop(), log, drainMs + 10_000);
    });
}

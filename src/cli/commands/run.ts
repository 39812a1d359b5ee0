import type { Command } from 'commander';
import { loadConfigFile } from '../../config/load.js';
import { formatIssue } from '../../config/issues.js';
import { parseDuration } from '../../core/units.js';
import { createLogger } from '../../core/log.js';
import { UserError } from '../../core/errors.js';
import { Gateway } from '../../runtime/gateway.js';
import { runService } from '../../runtime/signals.js';
import { notifyReady, startWatchdog, type Watchdog } from '../../runtime/sd-notify.js';

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run the gateway service (systemd runs this)')
    .requiredOption('-c, --config <file>', 'gateway YAML', '/etc/citygate/gateway.yaml')
    .option('--log-level <level>', LEVELS.join(', '), 'info')
    .option('--drain <duration>', 'on stop, keep delivering for at most this long (e.g. 5s, 30s, 2m)', '5s')
    .option('--reload-grace <duration>', 'how long a config change (SIGHUP, reload_config, config) must stay healthy before it is kept', '60s')
    .action(async (opts: { config: string; logLevel: string; drain: string; reloadGrace: string }) => {
      if (!LEVELS.includes(opts.logLevel)) throw new UserError(`--log-level: unknown level "${opts.logLevel}" — use one of ${LEVELS.join(', ')}`);
      const drainMs = parseDrain(opts.drain);
      const reloadGraceMs = parseDuration(opts.reloadGrace);
      if (reloadGraceMs === undefined || reloadGraceMs < 1000 || reloadGraceMs > 3_600_000) {
        throw new UserError(`--reload-grace: expected a duration like "60s" (1s to 1h), got "${opts.reloadGrace}"`);
      }
      const log = createLogger({ level: opts.logLevel });
      // A config mistake is a user error with file:line:col lines: reported by the CLI (exit 1).
      const { config, warnings } = loadConfigFile(opts.config, { missingEnv: 'error' });
      for (const w of warnings) log.warn(formatIssue(w));
      const gateway = new Gateway(config, { log, drainMs, configFile: opts.config, reloadGraceMs });
      // SIGHUP (systemctl reload): apply the file in place (src/control/reload.ts, issue #10).
      const onHup = (): void => {
        log.info(`SIGHUP: reloading ${opts.config}`);
        void gateway.reloader?.reloadFromFile().then((r) => (r.ok ? undefined : log.warn(`config reload refused: ${r.error}`)));
      };
      let watchdog: Watchdog | undefined;
      process.exitCode = await runService({
        log,
        deadlineMs: drainMs + 15_000,
        start: async () => {
          await gateway.start();
          process.on('SIGHUP', onHup);
        },
        stop: async () => {
          watchdog?.stop();
          await gateway.stop();
        },
        ready: async () => {
          await notifyReady(log);
          // systemd's watchdog: fed while the event loop turns and the buffer's commit
          // loop is alive — never gated on the uplink (src/runtime/sd-notify.ts).
          watchdog = startWatchdog({ log, alive: () => gateway.liveness() });
        },
      });
    });
}

function parseDrain(text: string): number {
  // A bare number is seconds (as before); everything else takes units like every duration.
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const ms = parseDuration(text);
  if (ms === undefined || ms < 0 || ms > 3_600_000) throw new UserError(`--drain: expected a duration like "5s" or "2m" (at most 1h), got "${text}"`);
  return ms;
}

/**
 * `citygate update BUNDLE`: install a release bundle with a health-gated rollback
 * (src/release/update.ts). Run as root on the gateway; the bundle's .sha256 must sit
 * next to it.
 */
import type { Command } from 'commander';
import { UserError } from '../../core/errors.js';
import { readConfig, withConfig } from '../config-arg.js';
import { ReleaseLayout } from '../../release/layout.js';
import { systemdService } from '../../release/service.js';
import { httpHealth } from '../../release/health-gate.js';
import { update } from '../../release/update.js';

export function registerUpdate(program: Command): void {
  withConfig(
    program
      .command('update')
      .description('install a release bundle; roll back if it is not healthy in time')
      .argument('<bundle>', 'citygate-<version>-linux-<arch>.tar.gz (its .sha256 next to it)')
      .option('--prefix <dir>', 'where releases live', '/opt/citygate')
      .option('--grace <seconds>', 'how long the new release has to become healthy', '90'),
  ).action(async (bundle: string, opts: { config: string; prefix: string; grace: string }) => {
    const grace = Number(opts.grace);
    if (!Number.isFinite(grace) || grace <= 0) throw new UserError(`--grace ${opts.grace}: expected a number of seconds`);
    const config = readConfig(opts.config);
    if (config.health.http === false)
      throw new UserError('the status page is disabled (health.http: false): the update cannot check the new release — enable it (127.0.0.1 is enough)');
    const say = (line: string) => process.stdout.write(`update: ${line}\n`);
    const r = await update({
      bundle,
      layout: new ReleaseLayout(opts.prefix),
      service: systemdService(),
      health: httpHealth(`http://${config.health.http}`),
      dataDir: config.gateway.data_dir,
      graceMs: grace * 1000,
      say,
    });
    say(r.outcome === 'updated' ? `done: running ${r.to}` : `${r.outcome}: ${r.detail}`);
    if (r.outcome !== 'updated') process.exitCode = 2;
  });
}

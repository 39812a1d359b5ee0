/**
 * `citygate update BUNDLE`: install a release bundle with a health-gated rollback
 * (src/release/update.ts). Run as root on the gateway; the bundle's signature
 * (`<bundle>.sig`) must sit next to it, signed by a key in /etc/citygate/keys.
 * `--allow-downgrade` is the only way to install an older release: a flag for a person
 * on the gateway, never set by the `update` downlink command (citygate-update.service
 * runs a fixed command line).
 *
 * `citygate update --request FILE`: what citygate-update.service runs when the gateway
 * left a request (the `update` downlink command, src/release/request.ts): takes the
 * request, installs its bundle the same way, removes the downloaded files, and leaves
 * the outcome for the gateway to announce as an `update_result` event. The request is
 * written by the unprivileged gateway, so it is trusted for nothing: its bundle must be
 * a bundle-named file in the data directory's updates/, and is verified like any other.
 */
import { rmSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { describeError, UserError } from '../../core/errors.js';
import { readConfig, withConfig } from '../config-arg.js';
import { ReleaseLayout } from '../../release/layout.js';
import { systemdService } from '../../release/service.js';
import { httpHealth } from '../../release/health-gate.js';
import { update, type UpdateResult } from '../../release/update.js';
import { takeRequest, updatesDir, writeOutcome } from '../../release/request.js';
import { BUNDLE_NAME } from '../../release/fetch-bundle.js';
import { DEFAULT_TRUST_DIR } from '../../release/trust.js';

interface Opts {
  config: string;
  prefix: string;
  grace: string;
  request?: string;
  keys: string;
  allowDowngrade?: boolean;
}

export function registerUpdate(program: Command): void {
  withConfig(
    program
      .command('update')
      .description('install a release bundle; roll back if it is not healthy in time')
      .argument('[bundle]', 'citygate-<version>-linux-<arch>.tar.gz (its .sig next to it)')
      .option('--prefix <dir>', 'where releases live', '/opt/citygate')
      .option('--grace <seconds>', 'how long the new release has to become healthy', '90')
      .option('--request <file>', 'install the bundle a gateway fetched (the update command; run by citygate-update.service)')
      .option('--keys <dir>', 'the trusted release signing keys (*.pub)', DEFAULT_TRUST_DIR)
      .option('--allow-downgrade', 'install a release older than the running one (only here, on the gateway)'),
  ).action(async (bundle: string | undefined, opts: Opts) => {
    const grace = Number(opts.grace);
    if (!Number.isFinite(grace) || grace <= 0) throw new UserError(`--grace ${opts.grace}: expected a number of seconds`);
    if (bundle && opts.request) throw new UserError('give a bundle or --request, not both');
    const config = readConfig(opts.config);
    const say = (line: string) => process.stdout.write(`update: ${line}\n`);
    const install = (file: string): Promise<UpdateResult> => {
      if (config.health.http === false)
        throw new UserError('the status page is disabled (health.http: false): the update cannot check the new release — enable it (127.0.0.1 is enough)');
      return update({
        bundle: file,
        layout: new ReleaseLayout(opts.prefix),
        service: systemdService(),
        health: httpHealth(`http://${config.health.http}`),
        dataDir: config.gateway.data_dir,
        graceMs: grace * 1000,
        trustDir: opts.keys,
        ...(opts.allowDowngrade ? { allowDowngrade: true } : {}),
        say,
      });
    };

    if (opts.request) {
      const req = takeRequest(opts.request);
      if (!req) {
        say(`no update waiting (${opts.request} is absent)`);
        return;
      }
      const dataDir = config.gateway.data_dir;
      const base = { request_id: req.request_id, bundle: req.bundle };
      // Only a bundle-named file in updates/: never a path elsewhere for root to read or remove.
      if (resolve(dirname(req.bundle)) !== resolve(updatesDir(dataDir)) || !BUNDLE_NAME.test(basename(req.bundle))) {
        const detail = `update refused: the request names ${req.bundle}, not a bundle in ${updatesDir(dataDir)}`;
        writeOutcome(dataDir, { ...base, outcome: 'refused', detail, finished_at: Date.now() });
        throw new UserError(detail);
      }
      try {
        const r = await install(req.bundle);
        writeOutcome(dataDir, { ...base, outcome: r.outcome, ...(r.from ? { from: r.from } : {}), to: r.to, detail: r.detail, finished_at: Date.now() });
        say(r.outcome === 'updated' ? `done: running ${r.to}` : `${r.outcome}: ${r.detail}`);
        if (r.outcome !== 'updated') process.exitCode = 2;
      } catch (err) {
        // Refused before anything changed (signature, key, hash, version, architecture, buffer format) or failed.
        writeOutcome(dataDir, { ...base, outcome: 'refused', detail: describeError(err), finished_at: Date.now() });
        throw err;
      } finally {
        rmSync(req.bundle, { force: true });
        rmSync(`${req.bundle}.sig`, { force: true });
        rmSync(`${req.bundle}.sha256`, { force: true });
      }
      return;
    }

    if (!bundle) throw new UserError('name the bundle to install: citygate update citygate-<version>-linux-<arch>.tar.gz');
    const r = await install(bundle);
    say(r.outcome === 'updated' ? `done: running ${r.to}` : `${r.outcome}: ${r.detail}`);
    if (r.outcome !== 'updated') process.exitCode = 2;
  });
}

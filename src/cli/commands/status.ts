/** `citygate status`: a running gateway's health, as a table (from its status page). */
import type { Command } from 'commander';
import type { HealthPayload } from '../../uplink/topics.js';
import { formatBytes } from '../../core/units.js';
import { DEFAULT_CONFIG, readConfig, withConfig } from '../config-arg.js';
import { UserError } from '../../core/errors.js';

const DEFAULT_STATUS = '127.0.0.1:8787';

/**
 * Where the status page is: health.http of the config. The installed config is often
 * readable by the service user only; a technician without sudo still gets the status
 * of a gateway on the default address.
 */
function statusUrl(configFile: string): string {
  let http: string | false;
  try {
    http = readConfig(configFile).health.http;
  } catch (err) {
    const code = (err as { message?: string }).message ?? '';
    if (configFile === DEFAULT_CONFIG && /cannot read|does not exist/.test(code)) {
      process.stderr.write(`(${configFile} is not readable here: trying the default status page ${DEFAULT_STATUS}; pass --url otherwise)\n`);
      return `http://${DEFAULT_STATUS}`;
    }
    throw err;
  }
  if (http === false) throw new UserError('the status page is disabled (health.http: false) — enable it, or pass --url');
  return `http://${http.replace(/^0\.0\.0\.0:/, '127.0.0.1:')}`;
}
import { table } from '../table.js';

export function registerStatus(program: Command): void {
  withConfig(program.command('status').description("a running gateway's health, as a table"))
    .option('--url <url>', 'status page URL (default: from health.http in the config)')
    .option('--json', 'print the raw health JSON')
    .action(async (opts: { config: string; url?: string; json?: boolean }) => {
      const base = opts.url ?? statusUrl(opts.config);
      let h: HealthPayload;
      try {
        const res = await fetch(`${base.replace(/\/$/, '')}/health`, { signal: AbortSignal.timeout(5000) });
        h = (await res.json()) as HealthPayload;
      } catch {
        throw new Error(`no gateway answering at ${base} — is it running? (systemctl status citygate; journalctl -u citygate -n 50)`);
      }
      if (opts.json) return void process.stdout.write(`${JSON.stringify(h, null, 2)}\n`);
      const b = h.buffer;
      process.stdout.write(
        `gateway ${h.gateway}  version ${h.version}  up ${h.uptime_s}s\n` +
          `uplink  ${h.uplink.state}${h.uplink.state !== 'online' && h.uplink.last_error ? ` (${h.uplink.last_error})` : ''}  reconnects ${h.uplink.reconnects}  delivered ${h.uplink.acked_readings}${h.uplink.since_ack_s !== undefined ? `  last ack ${h.uplink.since_ack_s}s ago` : ''}${h.uplink.insecure ? '  UNENCRYPTED' : ''}\n` +
          `buffer  ${b.readings} readings, ${formatBytes(b.bytes)}, oldest ${b.oldest_age_s ?? '—'}s, dropped ${b.dropped}, next seq ${b.next_seq}\n\n`,
      );
      process.stdout.write(
        table(
          ['device', 'state', 'readings', 'last (s)', 'errors', 'last error'],
          Object.entries(h.devices).map(([id, d]) => [id, d.state, d.readings, d.last_reading_age_s ?? '—', d.errors, d.last_error ?? '']),
        ),
      );
      const sys = h.system;
      process.stdout.write(
        `\nsystem  cpu ${sys.cpu_temp_c ?? '—'}°C  load ${sys.load_1m}  disk free ${sys.disk_free_bytes === null || sys.disk_free_bytes === undefined ? '—' : formatBytes(sys.disk_free_bytes)}\n`,
      );
    });
}

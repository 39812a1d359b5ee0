/** `citygate status`: a running gateway's health, as a table (from its status page). */
import type { Command } from 'commander';
import type { HealthPayload } from '../../uplink/topics.js';
import { formatBytes } from '../../config/units.js';
import { readConfig, withConfig } from '../config-arg.js';
import { table } from '../table.js';

export function registerStatus(program: Command): void {
  withConfig(program.command('status').description("a running gateway's health, as a table"))
    .option('--url <url>', 'status page URL (default: from health.http in the config)')
    .option('--json', 'print the raw health JSON')
    .action(async (opts: { config: string; url?: string; json?: boolean }) => {
      let base = opts.url;
      if (!base) {
        const http = readConfig(opts.config).health.http;
        if (http === false) throw new Error('the status page is disabled (health.http: false) — enable it or pass --url');
        base = `http://${http}`;
      }
      let h: HealthPayload;
      try {
        const res = await fetch(`${base.replace(/\/$/, '')}/health`, { signal: AbortSignal.timeout(5000) });
        h = (await res.json()) as HealthPayload;
      } catch {
        throw new Error(`no gateway answering at ${base} — is it running? (systemctl status citygate)`);
      }
      if (opts.json) return void process.stdout.write(`${JSON.stringify(h, null, 2)}\n`);
      const b = h.buffer;
      process.stdout.write(
        `gateway ${h.gateway}  version ${h.version}  up ${h.uptime_s}s\n` +
          `uplink  ${h.uplink.state}${h.uplink.last_error ? ` (${h.uplink.last_error})` : ''}  reconnects ${h.uplink.reconnects}  delivered ${h.uplink.acked_readings}${h.uplink.insecure ? '  UNENCRYPTED' : ''}\n` +
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

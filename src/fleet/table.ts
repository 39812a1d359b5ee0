/** The fleet as a terminal table, most trouble first (rows come sorted). */
import { formatBytes } from '../core/units.js';
import { table } from '../cli/table.js';
import type { GatewayRow } from './model.js';

const ageText = (s: number | null): string => (s === null ? '—' : s < 120 ? `${s}s` : s < 7200 ? `${Math.round(s / 60)}m` : s < 172_800 ? `${Math.round(s / 3600)}h` : `${Math.round(s / 86_400)}d`);

export function fleetTable(rows: readonly GatewayRow[], limit = Infinity): string {
  const shown = rows.slice(0, limit);
  const online = rows.filter((r) => r.state === 'online').length;
  const troubled = rows.filter((r) => r.trouble.length > 0).length;
  const body = table(
    ['gateway', 'state', 'health age', 'backlog', 'oldest', 'devices down', 'disk free', 'version', 'trouble'],
    shown.map((r) => [
      r.gateway,
      r.last_state ? `stale (${r.last_state})` : r.state,
      ageText(r.health_age_s),
      r.backlog ?? '—',
      ageText(r.backlog_oldest_s),
      r.health_age_s === null ? '—' : `${r.devices.down}/${r.devices.ok + r.devices.degraded + r.devices.down}${r.not_ok.length ? ` ${r.not_ok.join(',')}` : ''}`,
      r.disk_free_bytes === null ? '—' : formatBytes(r.disk_free_bytes),
      r.version ?? '—',
      r.trouble.join('; '),
    ]),
  );
  const more = rows.length > shown.length ? `… and ${rows.length - shown.length} more (the least troubled)\n` : '';
  const missing = rows.filter((r) => r.state === 'missing' || r.state === 'vanished').length;
  const watcher = rows.some((r) => r.state === 'stale') ? 'NOT CONNECTED to the broker: states below are the last known\n' : '';
  return `${watcher}${rows.length} gateways: ${online} online, ${troubled} with trouble${missing ? `, ${missing} missing or vanished` : ''}\n\n${body}${more}`;
}

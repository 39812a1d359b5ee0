/**
 * One row per gateway, from its retained `status` and `health` (full or compact), and
 * the order ops staff want: most trouble first. Pure: payloads and "now" in, rows out.
 *
 * States: `online` / `offline` from the retained status; `unknown` when only health was
 * seen; `vanished` when the retained status was cleared (an empty retained message: the
 * gateway was decommissioned, or someone wiped the broker's store); `missing` for an
 * expected gateway (`--expect`) never seen; `stale` for every gateway while the
 * watcher's own broker link is down (what it knows may be old: `last_state` keeps it).
 *
 * Trouble, worst first: offline, vanished, missing (or no status at all) > health older than `staleAfterS`
 * > disk full > devices down > buffer dropping > devices degraded > backlog older than
 * 5 min > disk low (the gateway says so, or under 10 % free). Within a class, bigger numbers first; ties by gateway id.
 */
import type { HealthPayload, StatusPayload } from '../uplink/topics.js';

export interface GatewayRow {
  gateway: string;
  /** See the module header. */
  state: GatewayState;
  /** While `state` is `stale`: the state last known. */
  last_state?: Exclude<GatewayState, 'stale'>;
  version: string | null;
  /** Seconds since the last health snapshot was taken (its `ts`), or null if none. */
  health_age_s: number | null;
  uptime_s: number | null;
  uplink_state: string | null;
  backlog: number | null;
  backlog_oldest_s: number | null;
  dropped: number | null;
  devices: { ok: number; degraded: number; down: number };
  /** Ids of devices not ok (first few). */
  not_ok: string[];
  disk_free_bytes: number | null;
  disk_total_bytes: number | null;
  cpu_temp_c: number | null;
  trouble: string[];
  score: number;
}

export type GatewayState = 'online' | 'offline' | 'unknown' | 'vanished' | 'missing' | 'stale';
export const GATEWAY_STATES: readonly GatewayState[] = ['online', 'offline', 'unknown', 'vanished', 'missing', 'stale'];

export interface Retained {
  /** The retained status was cleared (an empty retained message) after being seen. */
  vanished?: boolean;
  /** Expected (`--expect`) but nothing seen yet. */
  missing?: boolean;
  status?: StatusPayload;
  health?: Partial<HealthPayload> & { device_states?: { ok: number; degraded: number; down: number }; not_ok?: Record<string, string> };
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export function gatewayRow(id: string, r: Retained, nowMs: number, staleAfterS: number): GatewayRow {
  const h = r.health;
  const devices = { ok: 0, degraded: 0, down: 0 };
  const notOk: string[] = [];
  if (h?.device_states) {
    Object.assign(devices, h.device_states);
    notOk.push(...Object.keys(h.not_ok ?? {}));
  } else {
    for (const [dev, d] of Object.entries(h?.devices ?? {})) {
      if (d.state in devices) devices[d.state]++;
      if (d.state !== 'ok') notOk.push(dev);
    }
  }
  const state: GatewayState = r.missing ? 'missing' : (r.status?.state ?? (r.vanished ? 'vanished' : 'unknown'));
  const ts = num(h?.ts);
  const row: GatewayRow = {
    gateway: id,
    state,
    version: r.status?.version ?? h?.version ?? null,
    health_age_s: ts === null ? null : Math.max(0, Math.round((nowMs - ts) / 1000)),
    uptime_s: num(h?.uptime_s),
    uplink_state: h?.uplink?.state ?? null,
    backlog: num(h?.buffer?.readings),
    backlog_oldest_s: num(h?.buffer?.oldest_age_s),
    dropped: num(h?.buffer?.dropped),
    devices,
    not_ok: notOk.sort().slice(0, 5),
    disk_free_bytes: num(h?.system?.disk_free_bytes),
    disk_total_bytes: num(h?.system?.disk_total_bytes),
    cpu_temp_c: num(h?.system?.cpu_temp_c),
    trouble: [],
    score: 0,
  };
  const add = (weight: number, what: string): void => {
    row.score += weight;
    row.trouble.push(what);
  };
  if (state !== 'online') add(1e9, state === 'offline' ? 'offline' : state === 'vanished' ? 'status vanished' : state === 'missing' ? 'never seen (expected)' : 'no status');
  if (row.uplink_state === 'stalled') add(2e6, 'uplink stalled');
  if (row.health_age_s === null) add(5e8, 'no health');
  else if (row.health_age_s > staleAfterS) add(5e8 + Math.min(row.health_age_s, 1e7), `health ${row.health_age_s}s old`);
  if (devices.down > 0) add(1e7 * Math.min(devices.down, 99), `${devices.down} down`);
  if ((row.dropped ?? 0) > 0) add(1e6, `dropped ${row.dropped}`);
  if (devices.degraded > 0) add(1e5 * Math.min(devices.degraded, 9), `${devices.degraded} degraded`);
  if ((row.backlog_oldest_s ?? 0) > 300) add(1e3 + Math.min(row.backlog_oldest_s ?? 0, 9e4) / 100, `backlog ${row.backlog_oldest_s}s`);
  const diskState = h?.disk?.state;
  if (diskState === 'full') add(2e6, 'disk full');
  else if (diskState === 'low' || (row.disk_free_bytes !== null && row.disk_total_bytes && row.disk_free_bytes / row.disk_total_bytes < 0.1)) add(500, 'disk low');
  return row;
}

export function byTrouble(a: GatewayRow, b: GatewayRow): number {
  return b.score - a.score || a.gateway.localeCompare(b.gateway);
}

/** The same row while the watcher's broker link is down: its state is not known now. */
export function staleRow(row: GatewayRow, downForS: number): GatewayRow {
  if (row.state === 'stale') return row;
  return { ...row, state: 'stale', last_state: row.state, trouble: [`watcher offline ${downForS}s (was ${row.state})`, ...row.trouble] };
}

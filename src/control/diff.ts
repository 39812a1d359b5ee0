/**
 * What a new config changes, device by device (pure). A device is "changed" when its
 * own config differs or a bus it uses does; unchanged devices keep running untouched.
 * Sections the running gateway cannot swap in place (its identity, the buffer, the
 * uplink, the status server's address and login) are listed in `needsRestart`.
 */
import type { GatewayConfig } from '../config/schema.js';

export interface ConfigDiff {
  added: string[];
  removed: string[];
  changed: string[];
  unchanged: string[];
  /** Other sections that changed and apply in place (commands, health.interval). */
  inPlace: string[];
  needsRestart: string[];
}

type Dev = { id: string; enabled?: boolean; bus?: unknown } & Record<string, unknown>;
const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

function enabledDevices(c: GatewayConfig): Map<string, Dev> {
  return new Map((c.devices as Dev[]).filter((d) => d.enabled !== false).map((d) => [d.id, d]));
}

export function diffConfig(cur: GatewayConfig, next: GatewayConfig): ConfigDiff {
  const d: ConfigDiff = { added: [], removed: [], changed: [], unchanged: [], inPlace: [], needsRestart: [] };
  for (const key of ['gateway', 'uplink', 'buffer'] as const) if (!same(cur[key], next[key])) d.needsRestart.push(key);
  if (!same(cur.health.http, next.health.http) || !same(cur.health.auth, next.health.auth)) d.needsRestart.push('health.http');
  if (cur.health.interval !== next.health.interval) d.inPlace.push('health.interval');
  if (!same(cur.commands, next.commands)) d.inPlace.push('commands');
  const a = enabledDevices(cur);
  const b = enabledDevices(next);
  const busChanged = (dev: Dev): boolean => typeof dev.bus === 'string' && !same(cur.buses[dev.bus], next.buses[dev.bus]);
  for (const [id, dev] of b) {
    const old = a.get(id);
    if (!old) d.added.push(id);
    else if (!same(old, dev) || busChanged(dev)) d.changed.push(id);
    else d.unchanged.push(id);
  }
  for (const id of a.keys()) if (!b.has(id)) d.removed.push(id);
  return d;
}

export function isEmpty(d: ConfigDiff): boolean {
  return d.added.length + d.removed.length + d.changed.length + d.inPlace.length + d.needsRestart.length === 0;
}

/**
 * What a new config changes, device by device (pure). A device is "changed" when its
 * own config differs or a bus it uses does; unchanged devices keep running untouched.
 * Sections the running gateway cannot swap in place (its identity, the buffer, the
 * uplink, the status server's address and login, Home Assistant discovery) are listed in
 * `needsRestart`; so is any section this function does not know, so a section added to
 * the schema later can never change silently without being applied.
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

/** Top-level sections judged below, device by device or key by key; every other one needs a restart. */
const JUDGED = new Set(['health', 'commands', 'devices', 'buses']);

export function diffConfig(cur: GatewayConfig, next: GatewayConfig): ConfigDiff {
  const d: ConfigDiff = { added: [], removed: [], changed: [], unchanged: [], inPlace: [], needsRestart: [] };
  const sections = new Set([...Object.keys(cur), ...Object.keys(next)]);
  for (const key of sections) {
    if (!JUDGED.has(key) && !same((cur as Record<string, unknown>)[key], (next as Record<string, unknown>)[key])) d.needsRestart.push(key);
  }
  if (!same(cur.health.http, next.health.http) || !same(cur.health.auth, next.health.auth)) d.needsRestart.push('health.http');
  if (cur.health.interval !== next.health.interval) d.inPlace.push('health.interval');
  const healthKeys = new Set([...Object.keys(cur.health), ...Object.keys(next.health)]);
  for (const key of healthKeys) {
    if (!['http', 'auth', 'interval'].includes(key) && !same((cur.health as Record<string, unknown>)[key], (next.health as Record<string, unknown>)[key])) d.needsRestart.push(`health.${key}`);
  }
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

/**
 * Checks that span several parts of the config, run after the schema passed:
 * duplicate ids, buses that do not exist or are of the wrong type, two devices (or a
 * device and a bus) claiming one serial port or GPIO pin, duplicate point names.
 */
import { BUSES, findDriver } from '../drivers/registry.js';
import type { PathMessage } from './zod-issues.js';
import type { GatewayConfig } from './schema.js';

export function crossCheck(config: GatewayConfig): PathMessage[] {
  const out: PathMessage[] = [];
  const claimed = new Map<string, string>();
  const claim = (what: string, owner: string, path: PropertyKey[]): void => {
    const prev = claimed.get(what);
    if (prev) out.push({ path, message: `${what} is already used by ${prev} — one port or pin can serve only one device or bus` });
    else claimed.set(what, owner);
  };

  for (const [name, bus] of Object.entries(config.buses)) {
    const def = BUSES.find((b) => b.type === bus.type);
    for (const c of def?.claims?.(bus as { type: string } & Record<string, unknown>) ?? []) claim(c, `bus "${name}"`, ['buses', name]);
  }

  const ids = new Map<string, number>();
  config.devices.forEach((dev, i) => {
    const d = dev as { id: string; driver: string; enabled?: boolean; points?: { name: string }[] };
    const first = ids.get(d.id);
    if (first !== undefined) out.push({ path: ['devices', i, 'id'], message: `duplicate device id "${d.id}" (first used by devices[${first}])` });
    else ids.set(d.id, i);

    const seen = new Set<string>();
    d.points?.forEach((p, j) => {
      if (seen.has(p.name)) out.push({ path: ['devices', i, 'points', j, 'name'], message: `duplicate point name "${p.name}" in device "${d.id}"` });
      seen.add(p.name);
    });

    const def = findDriver(d.driver);
    if (!def || d.enabled === false) return;
    for (const c of def.claims?.(dev) ?? []) claim(c, `device "${d.id}"`, ['devices', i]);
    for (const b of def.buses?.(dev) ?? []) {
      const bus = config.buses[b.name];
      const names = Object.keys(config.buses);
      if (!bus) {
        out.push({
          path: ['devices', i, 'bus'],
          message: `bus "${b.name}" is not defined — ${names.length ? `defined buses: ${names.join(', ')}` : 'add it under buses:'}`,
        });
      } else if (!b.types.includes(bus.type)) {
        out.push({ path: ['devices', i, 'bus'], message: `bus "${b.name}" is ${bus.type}; driver ${d.driver} needs ${b.types.join(' or ')}` });
      }
    }
  });
  return out;
}

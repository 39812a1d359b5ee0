/**
 * Checks that span several parts of the config: duplicate ids, buses that do not exist
 * or are of the wrong type, two devices (or a device and a bus) claiming one serial
 * port, GPIO pin or Modbus unit, duplicate point names, and each driver's own `check`.
 *
 * They run on whatever parts of the file passed the schema (`PartialConfig`), so a file
 * with a bad duration in one device still gets its duplicate ids and missing buses
 * reported in the same run: every problem at once.
 */
import type { ConfigNote, CreateEnv } from '../core/driver.js';
import { BUSES, findDriver } from '../drivers/registry.js';
import type { PathMessage } from './zod-issues.js';
import type { DeviceConfig } from './schema.js';

export interface PartialConfig {
  /** Every bus as written (name → raw settings); `parsed` only where the schema passed. */
  buses: Record<string, { raw: unknown; parsed?: { type: string } & Record<string, unknown> }>;
  /** Every device as written, in order; `parsed` only where the schema passed. */
  devices: { raw: unknown; parsed?: DeviceConfig }[];
}

export interface CrossResult {
  errors: PathMessage[];
  warnings: PathMessage[];
}

const field = (v: unknown, k: string): unknown => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined);

function rawBuses(def: { buses?: (c: DeviceConfig) => { name: string; types: readonly string[] }[] }, raw: unknown): { name: string; types: readonly string[] }[] {
  try {
    return def.buses?.(raw as DeviceConfig) ?? [];
  } catch {
    return [];
  }
}

export function crossCheck(config: PartialConfig): CrossResult {
  const errors: PathMessage[] = [];
  const warnings: PathMessage[] = [];
  const note = (base: PropertyKey[]) => (n: ConfigNote): void => {
    (n.severity === 'error' ? errors : warnings).push({ path: [...base, ...n.path], message: n.message });
  };
  const claimed = new Map<string, string>();
  const claim = (what: string, owner: string, path: PropertyKey[]): void => {
    const prev = claimed.get(what);
    if (prev) errors.push({ path, message: `${what} is already used by ${prev} — give each device its own (or remove one)` });
    else claimed.set(what, owner);
  };

  const parsedBuses: Record<string, { type: string } & Record<string, unknown>> = {};
  for (const [name, bus] of Object.entries(config.buses)) {
    if (!bus.parsed) continue;
    parsedBuses[name] = bus.parsed;
    const def = BUSES.find((b) => b.type === bus.parsed?.type);
    for (const c of def?.claims?.(bus.parsed) ?? []) claim(c, `bus "${name}"`, ['buses', name]);
    def?.check?.(bus.parsed).forEach(note(['buses', name]));
  }
  const env: CreateEnv = { buses: parsedBuses, devices: config.devices.flatMap((d) => (d.parsed ? [d.parsed] : [])) };

  const ids = new Map<string, number>();
  config.devices.forEach(({ raw, parsed }, i) => {
    const id = field(raw, 'id');
    if (typeof id === 'string') {
      const first = ids.get(id);
      if (first !== undefined) errors.push({ path: ['devices', i, 'id'], message: `duplicate device id "${id}" (first used by devices[${first}]) — ids name the data/<id> topic and must be unique` });
      else ids.set(id, i);
    }
    const points = field(raw, 'points');
    if (Array.isArray(points)) {
      const seen = new Set<string>();
      points.forEach((p, j) => {
        const name = field(p, 'name');
        if (typeof name !== 'string') return;
        if (seen.has(name)) errors.push({ path: ['devices', i, 'points', j, 'name'], message: `duplicate point name "${name}" in device "${String(id)}"` });
        seen.add(name);
      });
    }
    if (field(raw, 'enabled') === false) return;
    const def = findDriver(String(field(raw, 'driver')));
    if (!def) return;
    // A device that failed the schema still names its bus (by convention, in `bus:`).
    const rawBus = field(raw, 'bus');
    const used = parsed ? (def.buses?.(parsed) ?? []) : typeof rawBus === 'string' ? rawBuses(def, raw) : [];
    for (const b of used) {
      const bus = config.buses[b.name];
      const names = Object.keys(config.buses);
      const type = field(bus?.raw, 'type');
      if (!bus) {
        errors.push({
          path: ['devices', i, 'bus'],
          message: `bus "${b.name}" is not defined — ${names.length ? `defined buses: ${names.join(', ')}` : 'add it under buses:'}`,
        });
      } else if (typeof type === 'string' && !b.types.includes(type)) {
        errors.push({ path: ['devices', i, 'bus'], message: `bus "${b.name}" is ${type}; driver ${def.name} needs ${b.types.join(' or ')}` });
      }
    }
    if (!parsed) return;
    // Claims and driver checks need the buses they name to be valid.
    if (def.buses?.(parsed).some((b) => !parsedBuses[b.name])) return;
    for (const c of def.claims?.(parsed, env) ?? []) claim(c, `device "${parsed.id}"`, ['devices', i]);
    def.check?.(parsed, env).forEach(note(['devices', i]));
  });
  if (config.devices.length === 0) {
    warnings.push({ path: [], message: 'no devices are configured: the gateway would publish only its own health — add a devices: list (see boards/ for examples)' });
  }
  return { errors, warnings };
}

/**
 * The Sparkplug downlink as citygate command requests (the same dispatcher: commands.allow,
 * commands.writes, rate limit, duplicates, answers):
 * - DCMD `spBv1.0/<group>/DCMD/<node>/<device>`: each metric (by alias or name) is a write of
 *   that point: `modbus_write {device, point, value}` (`gpio_set {device, value}` for a gpio
 *   device). Its id is `dcmd-<payload timestamp>-<alias>`, so an MQTT redelivery of the same
 *   DCMD is a duplicate and is not written twice.
 * - NCMD metrics `citygate/cmd/<name>` (String: a citygate request `{"id","args"}`) run any
 *   allow-listed command. `Node Control/Rebirth` is not a command: the edge node handles it.
 * Answers go back as the node metric `citygate/command_reply` (NDATA).
 */
import type { UMetric } from './codec.js';
import { toNumber } from './codec.js';
import type { MetricCatalogue } from './metrics.js';
import { COMMAND_PREFIX } from './messages.js';

export interface PlainRequest {
  name: string;
  payload: Buffer;
}

const PRINTABLE = /[^\x21-\x7e]/g;

function requestId(parts: (string | number)[]): string {
  return parts.join('-').replace(PRINTABLE, '_').slice(0, 128);
}

/** A metric value as JSON can carry it (Long → number). */
export function plainValue(v: UMetric['value']): unknown {
  const n = toNumber(v);
  if (n !== undefined) return n;
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  return v;
}

export function dcmdRequests(device: string, driver: string | undefined, metrics: UMetric[], timestamp: number, catalogue: MetricCatalogue): PlainRequest[] {
  return metrics.map((m, i) => {
    const alias = toNumber(m.alias ?? undefined);
    const def = catalogue.findPoint(device, m, alias);
    const point = def?.name ?? (typeof m.name === 'string' && m.name !== '' ? m.name : `alias-${alias ?? i}`);
    const id = requestId(['dcmd', timestamp, alias ?? point]);
    const value = plainValue(m.value);
    const gpio = driver === 'gpio';
    const args = gpio ? { device, value } : { device, point, value };
    return { name: gpio ? 'gpio_set' : 'modbus_write', payload: Buffer.from(JSON.stringify({ id, args })) };
  });
}

/** `citygate/cmd/<name>` metrics of an NCMD: their String values are citygate requests. */
export function ncmdRequests(metrics: UMetric[], nameOf: (m: UMetric) => string | undefined): PlainRequest[] {
  const out: PlainRequest[] = [];
  for (const m of metrics) {
    const name = nameOf(m);
    if (!name?.startsWith(COMMAND_PREFIX)) continue;
    const command = name.slice(COMMAND_PREFIX.length);
    out.push({ name: command, payload: Buffer.from(typeof m.value === 'string' ? m.value : '') });
  }
  return out;
}

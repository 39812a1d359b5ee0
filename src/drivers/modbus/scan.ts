/**
 * Which unit ids answer on a bus: one read per unit, no retries, short timeout.
 * Any well-formed answer, exceptions included, means a device is there; "gateway
 * target failed to respond" (exception 11, from TCP-to-RTU gateways) means nobody is.
 * A garbled answer is reported separately: it usually means the baud or parity is
 * wrong, or two devices share an id.
 */
import { describeError } from '../../core/errors.js';
import type { ModbusBus } from './bus.js';
import { EXCEPTION_NAMES, ModbusExceptionError, ModbusFrameError, ModbusLinkError } from './errors.js';
import type { Table } from './pdu.js';

export interface ScanResult {
  unit: number;
  status: 'answers' | 'exception' | 'garbled' | 'silent';
  detail: string;
  latencyMs?: number;
}

export interface ScanOptions {
  table: Table;
  address: number;
  timeoutMs: number;
  onProgress?: (done: number, total: number, unit: number, found: number) => void;
}

/** Parse "1-247", "1,2,5-7" into unit ids; throws a message for a person on nonsense. */
export function parseUnits(text: string, max: number): number[] {
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+))?\s*$/.exec(part);
    if (!m) throw new Error(`"${part}" is not a unit or range — write e.g. 1-247 or 1,2,5-7`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    const lo = max === 247 ? 1 : 0;
    if (a > b || a < lo || b > max) throw new Error(`units must be within ${lo}-${max}, got ${part.trim()}`);
    for (let u = a; u <= b; u++) out.add(u);
  }
  return [...out].sort((x, y) => x - y);
}

export async function scanUnits(bus: ModbusBus, units: readonly number[], opts: ScanOptions): Promise<ScanResult[]> {
  const results: ScanResult[] = [];
  let found = 0;
  for (const [i, unit] of units.entries()) {
    opts.onProgress?.(i, units.length, unit, found);
    try {
      const r = await bus.request({ unit, request: { kind: 'read', table: opts.table, address: opts.address, count: 1 }, timeoutMs: opts.timeoutMs, retries: 0 });
      const v = r.data[0];
      const shown = typeof v === 'number' ? `0x${v.toString(16).padStart(4, '0')} (${v})` : String(v);
      results.push({ unit, status: 'answers', detail: `${opts.table} ${opts.address} = ${shown}`, latencyMs: Math.round(r.latencyMs) });
      found++;
    } catch (err) {
      if (err instanceof ModbusLinkError) throw err;
      if (err instanceof ModbusExceptionError && err.code !== 10 && err.code !== 11) {
        results.push({ unit, status: 'exception', detail: `present: exception ${err.code} (${EXCEPTION_NAMES[err.code] ?? 'unknown'}) for ${opts.table} ${opts.address}` });
        found++;
      } else if (err instanceof ModbusFrameError) {
        results.push({ unit, status: 'garbled', detail: `garbled answer (${err.fault}) — wrong baud/parity, or two devices with this id?` });
      } else {
        results.push({ unit, status: 'silent', detail: describeError(err) });
      }
    }
  }
  opts.onProgress?.(units.length, units.length, units.at(-1) ?? 0, found);
  return results;
}

/**
 * Modbus rules that need the bus, or that catch likely rather than certain mistakes
 * (`citygate validate` reports them with a line; `--strict` makes warnings errors):
 * - on an RTU bus a device needs its slave address, 1-247 (0 is broadcast: no answer);
 * - a 3xxxx/4xxxx address is usually a manual's register number, not the protocol's;
 * - an RTU bus busier than 100 % (an error) or WARN_LOAD (a warning), bus-load.ts;
 * - two points of one device (one unit on one bus) must not read the same register or
 *   bit: a float32 at 0 and another at 1 share register 1, and both would be sent as
 *   `good` though at most one is right. Intended sharing is allowed where it is a real
 *   practice: `bit:` points of a register read also as a whole (a status word and its
 *   flags), and different bits of one register.
 */
import type { ConfigNote, CreateEnv } from '../../core/driver.js';
import { effectiveUnit } from './device-plan.js';
import { registerCount } from './codec.js';
import { busLoadNote, isRtu, rtuBusLoad } from './bus-load.js';
import type { ModbusBusConfig, ModbusDeviceConfig } from './schema.js';

/** Manual numbering: 0xxxx coils, 1xxxx discretes, 3xxxx input registers, 4xxxx holding. */
const MANUAL_PREFIX: Record<string, number> = { discrete: 10_001, input: 30_001, holding: 40_001 };

export function checkModbusDevice(c: ModbusDeviceConfig, env: CreateEnv): ConfigNote[] {
  const out: ConfigNote[] = [];
  const bus = env.buses[c.bus] as ModbusBusConfig | undefined;
  if (bus?.type === 'modbus-rtu') {
    if (c.unit === undefined) {
      out.push({ path: ['unit'], severity: 'error', message: `unit is required on RTU bus "${c.bus}": the slave address set on the meter (1-247)` });
    } else if (c.unit === 0) {
      out.push({ path: ['unit'], severity: 'error', message: 'unit 0 is the RTU broadcast address: slaves never answer it — use the address set on the meter (1-247)' });
    } else if (c.unit > 247) {
      out.push({ path: ['unit'], severity: 'error', message: `unit ${c.unit} is not an RTU slave address (1-247; 248-255 are reserved)` });
    }
  }
  if (isRtu(bus)) {
    // Once per bus: on its first enabled device.
    const mates = (env.devices ?? []).filter((d): d is ModbusDeviceConfig => d.driver === 'modbus' && (d as ModbusDeviceConfig).bus === c.bus && (d as ModbusDeviceConfig).enabled !== false);
    if (mates[0] === c || (mates[0] as { id?: string } | undefined)?.id === c.id) {
      const note = busLoadNote(c.bus, bus, rtuBusLoad(c.bus, bus, mates));
      if (note) out.push({ path: ['bus'], ...note });
    }
  }
  out.push(...overlaps(c, bus ? String(effectiveUnit(c, bus)) : String(c.unit ?? 'default')));
  c.points.forEach((p, i) => {
    const first = MANUAL_PREFIX[p.table];
    if (first === undefined || p.address < first || p.address >= first + 10_000) return;
    const protocol = p.address - first;
    out.push({
      path: ['points', i, 'address'],
      severity: 'warning',
      message: `address ${p.address} looks like a manual's register number (${String(first).charAt(0)}xxxx = ${p.table} register ${protocol + 1}) — write address: ${c.address_base === 1 ? protocol + 1 : `${protocol} (the protocol address)`}`,
    });
  });
  return out;
}

type Point = ModbusDeviceConfig['points'][number];

function span(p: Point): { first: number; last: number; what: string } {
  const bitTable = p.table === 'coil' || p.table === 'discrete';
  const type = p.type ?? (bitTable || p.bit !== undefined ? 'bool' : 'uint16');
  const n = bitTable ? 1 : registerCount(type, p.length);
  const where = n === 1 ? `${p.table} ${p.address}` : `${p.table} ${p.address}-${p.address + n - 1}`;
  return { first: p.address, last: p.address + n - 1, what: `${p.bit !== undefined ? `bit ${p.bit} of ` : type === 'bool' ? '' : `${type}, `}${where}` };
}

/** Two points whose registers (or bits) overlap; each later point names the earlier one. */
function overlaps(c: ModbusDeviceConfig, unit: string): ConfigNote[] {
  const out: ConfigNote[] = [];
  c.points.forEach((p, i) => {
    const a = span(p);
    for (let j = 0; j < i; j++) {
      const q = c.points[j]!;
      if (q.table !== p.table) continue;
      const b = span(q);
      if (a.first > b.last || b.first > a.last) continue;
      // A register's bits beside the register itself, or other bits of it: intended.
      if ((p.bit === undefined) !== (q.bit === undefined)) continue;
      if (p.bit !== undefined && p.bit !== q.bit) continue;
      const shared = Math.max(a.first, b.first);
      out.push({
        path: ['points', i, 'address'],
        severity: 'error',
        message: `point "${p.name}" (${a.what}) overlaps point "${q.name}" (${b.what}) on unit ${unit}: both read ${p.table} ${shared}${p.bit !== undefined ? ` bit ${p.bit}` : ''}, so at most one value is right — check both addresses against the register map`,
      });
      break;
    }
  });
  return out;
}

/** One unit id per bus: two devices on one unit answer each other's requests. */
export function modbusClaims(c: ModbusDeviceConfig, env?: CreateEnv): string[] {
  const bus = env?.buses[c.bus] as ModbusBusConfig | undefined;
  const unit = bus ? String(effectiveUnit(c, bus)) : String(c.unit ?? 'default');
  return [`unit ${unit} on Modbus bus "${c.bus}"${c.unit === undefined ? ' (the default unit)' : ''}`];
}

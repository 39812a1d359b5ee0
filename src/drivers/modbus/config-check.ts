/**
 * Modbus rules that need the bus, or that catch likely rather than certain mistakes
 * (`citygate validate` reports them with a line; `--strict` makes warnings errors):
 * - on an RTU bus a device needs its slave address, 1-247 (0 is broadcast: no answer);
 * - a 3xxxx/4xxxx address is usually a manual's register number, not the protocol's.
 */
import type { ConfigNote, CreateEnv } from '../../core/driver.js';
import { effectiveUnit } from './device-plan.js';
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

/** One unit id per bus: two devices on one unit answer each other's requests. */
export function modbusClaims(c: ModbusDeviceConfig, env?: CreateEnv): string[] {
  const bus = env?.buses[c.bus] as ModbusBusConfig | undefined;
  const unit = bus ? String(effectiveUnit(c, bus)) : String(c.unit ?? 'default');
  return [`unit ${unit} on Modbus bus "${c.bus}"${c.unit === undefined ? ' (the default unit)' : ''}`];
}

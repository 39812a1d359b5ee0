/**
 * `citygate validate --explain`: the read plan of every Modbus device as it will run,
 * so an integrator sees requests per poll before going on site. Pure: config in,
 * text out (the config must be validated output, e.g. from loadConfigFile). For RTU buses it also estimates the time on the wire per poll and the
 * share of the bus each poll interval uses (11 bits per character, the 3.5-character
 * gap, no slave think time), which tells whether a dozen meters fit on one line.
 */
import { devicePlan, effectiveUnit } from './device-plan.js';
import { READ_FC, isBitTable, type Table } from './pdu.js';
import { wasted, type PlannedRead } from './plan.js';
import type { PointSpec } from './points.js';
import { interFrameMs } from './rtu-frame.js';
import type { ModbusBusConfig, ModbusDeviceConfig } from './schema.js';

interface ConfigLike {
  buses: Record<string, unknown>;
  devices: readonly unknown[];
}

const fmtMs = (ms: number): string =>
  ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : ms % 60_000 === 0 ? `${ms / 60_000}m` : ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;

function readLine(r: PlannedRead<PointSpec>): string {
  const fc = String(READ_FC[r.table]).padStart(2, '0');
  const range = r.count > 1 ? `${r.address}-${r.address + r.count - 1}` : `${r.address}`;
  const names = r.points.map((p) => p.name);
  const shown = names.length > 6 ? `${names.slice(0, 5).join(', ')} … (${names.length} points)` : names.join(', ');
  const waste = wasted(r);
  return `    FC${fc} read ${r.table} ${range} (${r.count}${waste ? `, ${waste} unused` : ''}) → ${shown}`;
}

/** Wire time of one read on an RTU line, ms. */
export function rtuReadMs(table: Table, count: number, baud: number, gapMs: number): number {
  const reply = 5 + (isBitTable(table) ? Math.ceil(count / 8) : 2 * count);
  return ((8 + reply) * 11 * 1000) / baud + 2 * gapMs;
}

function busLine(name: string, bus: ModbusBusConfig | undefined): string {
  if (!bus) return `bus ${name} (not defined)`;
  if (bus.type === 'modbus-tcp') return `bus ${name} (modbus-tcp ${bus.host}:${bus.port})`;
  return `bus ${name} (modbus-rtu ${bus.port} ${bus.baud} ${bus.data_bits}${bus.parity[0]?.toUpperCase()}${bus.stop_bits})`;
}

function modiconHint(device: ModbusDeviceConfig): string[] {
  if (device.address_base !== 0) return [];
  return device.points
    .filter((p) => (p.table === 'input' && p.address >= 30001 && p.address <= 39999) || (p.table === 'holding' && p.address >= 40001 && p.address <= 49999))
    .slice(0, 3)
    .map(
      (p) =>
        `  note: ${p.name} uses address ${p.address}, which looks like a manual's ${p.table === 'input' ? '3xxxx' : '4xxxx'} number; the protocol address is probably ${p.address - (p.table === 'input' ? 30001 : 40001)}`,
    );
}

export function explainModbusPlan(config: ConfigLike): string {
  const out: string[] = [];
  const busLoad = new Map<string, number>();
  for (const raw of config.devices) {
    const dev = raw as { driver?: string; enabled?: boolean };
    if (dev.driver !== 'modbus' || dev.enabled === false) continue;
    // `config` is validated output (GatewayConfig): durations are already ms.
    const d = raw as ModbusDeviceConfig;
    const bus = config.buses[d.bus] as ModbusBusConfig | undefined;
    const { groups } = devicePlan(d);
    const points = d.points.length;
    const perMinute = groups.reduce((n, g) => n + (g.reads.length * 60_000) / g.poll, 0);
    out.push(`device ${d.id} — ${busLine(d.bus, bus)}, unit ${effectiveUnit(d, bus)}: ${points} point${points === 1 ? '' : 's'}, ${round(perMinute)} requests/min`);
    for (const g of groups) {
      const regs = g.reads.reduce((n, r) => n + r.count, 0);
      const pts = g.reads.reduce((n, r) => n + r.points.length, 0);
      let line = `  every ${fmtMs(g.poll)}: ${g.reads.length} request${g.reads.length === 1 ? '' : 's'} for ${pts} point${pts === 1 ? '' : 's'} (${regs} items read)`;
      if (bus?.type === 'modbus-rtu') {
        const gap = bus.inter_frame_delay ?? interFrameMs(bus.baud);
        const ms = g.reads.reduce((t, r) => t + rtuReadMs(r.table, r.count, bus.baud, gap), 0);
        busLoad.set(d.bus, (busLoad.get(d.bus) ?? 0) + ms / g.poll);
        line += `, ≈${round(ms)}ms on the wire`;
      }
      out.push(line, ...g.reads.map(readLine));
    }
    out.push(...modiconHint(d));
  }
  if (out.length === 0) return 'no modbus devices\n';
  for (const [name, load] of busLoad) {
    const pct = load * 100;
    out.push(`bus ${name}: ≈${round(pct)}% busy${pct > 70 ? ' — too close to capacity: raise poll intervals, the baud rate, or split the bus' : ''}`);
  }
  return `${out.join('\n')}\n`;
}

const round = (n: number): number => (n >= 10 ? Math.round(n) : Math.round(n * 10) / 10);

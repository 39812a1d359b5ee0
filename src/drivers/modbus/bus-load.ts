/**
 * How busy an RTU line is: the time on the wire every poll interval needs, as a share
 * of the interval, summed over the enabled devices on the bus (11 bits per character,
 * the 3.5-character gap, no slave think time: a floor, real lines are busier).
 * `validate --explain` prints it; validate warns above WARN_LOAD and refuses above
 * 100 %: a bus that needs more time than there is polls late, always, and every
 * reading's age grows.
 */
import { devicePlan } from './device-plan.js';
import { rtuReadMs } from './explain.js';
import { interFrameMs } from './rtu-frame.js';
import type { ModbusBusConfig, ModbusDeviceConfig, RtuBusConfig } from './schema.js';

/** Above this share of the line, validate warns (retries and slow slaves need room). */
export const WARN_LOAD = 0.7;

export interface BusLoad {
  /** 1 = the line never rests. */
  load: number;
  devices: { id: string; load: number; fastestPollMs: number }[];
}

export function rtuBusLoad(name: string, bus: RtuBusConfig, devices: readonly ModbusDeviceConfig[]): BusLoad {
  const gap = bus.inter_frame_delay ?? interFrameMs(bus.baud);
  const out: BusLoad = { load: 0, devices: [] };
  for (const d of devices) {
    if (d.driver !== 'modbus' || d.bus !== name || d.enabled === false) continue;
    let load = 0;
    let fastest = Infinity;
    for (const g of devicePlan(d).groups) {
      const ms = g.reads.reduce((t, r) => t + rtuReadMs(r.table, r.count, bus.baud, gap), 0);
      load += ms / g.poll;
      fastest = Math.min(fastest, g.poll);
    }
    out.load += load;
    out.devices.push({ id: d.id, load, fastestPollMs: fastest });
  }
  return out;
}

export function isRtu(bus: ModbusBusConfig | undefined): bus is RtuBusConfig {
  return bus?.type === 'modbus-rtu';
}

const pct = (x: number): string => `${x * 100 >= 10 ? Math.round(x * 100) : Math.round(x * 1000) / 10}%`;

/** The finding for a bus at `load`, or undefined when it has room. */
export function busLoadNote(name: string, bus: RtuBusConfig, l: BusLoad): { severity: 'error' | 'warning'; message: string } | undefined {
  if (l.load <= WARN_LOAD) return undefined;
  const top = [...l.devices].sort((a, b) => b.load - a.load).slice(0, 3).map((d) => `${d.id} ${pct(d.load)}`).join(', ');
  const factor = Math.ceil(l.load / WARN_LOAD);
  if (l.load > 1) {
    return {
      severity: 'error',
      message: `bus ${name} would be ≈${pct(l.load)} busy at ${bus.baud} baud (${top}): the polls need more time on the wire than there is — make the poll intervals about ${factor}× longer, raise the baud rate (on every slave too), read fewer points, or split the devices over two buses (citygate validate --explain shows the plan)`,
    };
  }
  return {
    severity: 'warning',
    message: `bus ${name} would be ≈${pct(l.load)} busy at ${bus.baud} baud (${top}): above ${pct(WARN_LOAD)} there is little room for retries and slow answers — lengthen poll intervals or raise the baud rate`,
  };
}

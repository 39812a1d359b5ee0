/**
 * Metric definitions of the edge node: one alias per metric, unique across the whole node
 * (tck-id-payloads-alias-uniqueness), stable for the process; its Sparkplug datatype and
 * unit; and the last value sent, which a birth must carry (tck-id-operational-behavior-data-
 * publish-dbirth-values). Pure.
 *
 * Datatypes come from the point config where it states one the values keep (a Modbus
 * `type` without scale or offset: uint16 → UInt16, float32 → Float, …), otherwise from the
 * values: numbers are Double, booleans Boolean, text String. A value the declared type
 * cannot carry (a string where a number was) changes the metric's datatype, which needs a
 * new DBIRTH: `observe` says so.
 */
import type { ReadingPayload } from '../../../core/payloads.js';
import type { TypeStr, UMetric } from './codec.js';

export interface MetricDef {
  name: string;
  alias: number;
  type: TypeStr;
  unit?: string;
  /** Last value and time sent (a birth carries it); none yet: the birth says null. */
  last?: { value: ReadingPayload['value']; ts: number };
}

const FROM_CONFIG: Record<string, TypeStr> = {
  bool: 'Boolean',
  int16: 'Int16',
  uint16: 'UInt16',
  int32: 'Int32',
  uint32: 'UInt32',
  int64: 'Int64',
  uint64: 'UInt64',
  float32: 'Float',
  float64: 'Double',
  string: 'String',
};

const INTEGER: Partial<Record<TypeStr, [number, number]>> = {
  Int8: [-128, 127],
  Int16: [-32768, 32767],
  Int32: [-(2 ** 31), 2 ** 31 - 1],
  Int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  UInt8: [0, 255],
  UInt16: [0, 65535],
  UInt32: [0, 2 ** 32 - 1],
  UInt64: [0, Number.MAX_SAFE_INTEGER],
};

/** The datatype a point config states, when its values keep it (no scale or offset). */
export function configuredType(point: Record<string, unknown>): TypeStr | undefined {
  // Modbus bits (a bit of a register, a coil, a discrete input) read as booleans.
  if (point.bit !== undefined || point.table === 'coil' || point.table === 'discrete') return 'Boolean';
  const t = point.type;
  if (typeof t !== 'string' || !(t in FROM_CONFIG)) return undefined;
  const scaled = (point.scale !== undefined && point.scale !== 1) || (point.offset !== undefined && point.offset !== 0);
  const type = FROM_CONFIG[t] as TypeStr;
  return scaled && INTEGER[type] ? 'Double' : type;
}

/** Whether `type` can carry `value` (null fits every type: is_null). */
export function fits(type: TypeStr, value: ReadingPayload['value']): boolean {
  if (value === null) return true;
  if (type === 'Boolean') return typeof value === 'boolean';
  if (type === 'String') return typeof value === 'string';
  if (typeof value !== 'number') return false;
  if (type === 'Double' || type === 'Float') return true;
  const range = INTEGER[type];
  return range !== undefined && Number.isInteger(value) && value >= range[0] && value <= range[1];
}

function inferred(value: ReadingPayload['value']): TypeStr {
  return typeof value === 'boolean' ? 'Boolean' : typeof value === 'string' ? 'String' : 'Double';
}

export class MetricCatalogue {
  private nextAlias = 1;
  private readonly nodeDefs = new Map<string, MetricDef>();
  private readonly devices = new Map<string, Map<string, MetricDef>>();

  /** A node-level metric (citygate/event, …), created on first use. */
  node(name: string, type: TypeStr): MetricDef {
    let d = this.nodeDefs.get(name);
    if (!d) this.nodeDefs.set(name, (d = { name, alias: this.nextAlias++, type }));
    return d;
  }

  nodeMetrics(): MetricDef[] {
    return [...this.nodeDefs.values()];
  }

  /** A point known from the config (so the first DBIRTH lists it before any reading). */
  declare(device: string, point: string, type: TypeStr | undefined, unit: string | undefined): void {
    const defs = this.deviceDefs(device);
    if (defs.has(point)) return;
    defs.set(point, { name: point, alias: this.nextAlias++, type: type ?? 'Double', ...(unit ? { unit } : {}) });
  }

  /** The devices with metrics, in the order they were first seen. */
  deviceIds(): string[] {
    return [...this.devices.keys()];
  }

  deviceMetrics(device: string): MetricDef[] {
    return [...(this.devices.get(device)?.values() ?? [])];
  }

  /**
   * The definition for a reading; `rebirth` when the device's birth no longer describes it
   * (a new point, or a value its datatype cannot carry). Records the value as the last one.
   */
  observe(device: string, r: ReadingPayload): { def: MetricDef; rebirth: boolean } {
    const defs = this.deviceDefs(device);
    let def = defs.get(r.point);
    let rebirth = false;
    if (!def) {
      defs.set(r.point, (def = { name: r.point, alias: this.nextAlias++, type: inferred(r.value), ...(r.unit ? { unit: r.unit } : {}) }));
      rebirth = true;
    } else if (!fits(def.type, r.value)) {
      def.type = inferred(r.value);
      rebirth = true;
    }
    if (r.unit && def.unit === undefined) def.unit = r.unit;
    if (def.last === undefined || r.ts >= def.last.ts) def.last = { value: r.value, ts: r.ts };
    return { def, rebirth };
  }

  /** The point of a DCMD metric (by alias or by name). */
  findPoint(device: string, m: Pick<UMetric, 'name' | 'alias'>, alias: number | undefined): MetricDef | undefined {
    const defs = this.devices.get(device);
    if (!defs) return undefined;
    if (alias !== undefined) for (const d of defs.values()) if (d.alias === alias) return d;
    return typeof m.name === 'string' ? defs.get(m.name) : undefined;
  }

  private deviceDefs(device: string): Map<string, MetricDef> {
    let defs = this.devices.get(device);
    if (!defs) this.devices.set(device, (defs = new Map()));
    return defs;
  }
}

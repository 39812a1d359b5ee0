/**
 * Turning the data of one planned read into samples for its points. Pure. The value
 * is the raw decoded value: scale, offset and deadband belong to the pipeline.
 * Non-finite floats (a meter's NaN for "not available") become null with quality
 * bad; 64-bit integers beyond 2^53 are sent with quality uncertain.
 */
import type { Sample } from '../../core/reading.js';
import { decodeRegisters, registerBit } from './codec.js';
import type { ModbusData } from './pdu.js';
import type { PlannedRead } from './plan.js';
import type { PointSpec } from './points.js';

export function decodePoint(p: PointSpec, read: Pick<PlannedRead, 'address'>, data: ModbusData): Sample {
  const off = p.address - read.address;
  if (p.table === 'coil' || p.table === 'discrete') return { point: p.name, value: (data as boolean[])[off] === true };
  const regs = (data as number[]).slice(off, off + p.count);
  if (regs.length < p.count) return { point: p.name, value: null, quality: 'bad' };
  if (p.bit !== undefined) return { point: p.name, value: registerBit(regs[0] ?? 0, p.bit) };
  const { value, exact } = decodeRegisters(regs, p.type, p.order);
  if (typeof value === 'number' && !Number.isFinite(value)) return { point: p.name, value: null, quality: 'bad' };
  return exact ? { point: p.name, value } : { point: p.name, value, quality: 'uncertain' };
}

export function decodeRead(read: PlannedRead<PointSpec>, data: ModbusData): Sample[] {
  return read.points.map((p) => decodePoint(p, read, data));
}

/**
 * From point config to what the poller needs: protocol address (0-based), type,
 * order, how many registers or bits it spans, and its poll interval. One place for
 * the address_base and order-default rules, shared by the driver, the planner, the
 * write action and `--explain`.
 */
import { ORDER_ALIASES, orderFrom, registerCount, type DataType, type Order } from './codec.js';
import { isBitTable, type Table } from './pdu.js';
import type { ModbusDeviceConfig, ModbusPointConfig } from './schema.js';

export interface PointSpec {
  name: string;
  table: Table;
  /** Protocol (0-based) address. */
  address: number;
  /** Registers (register tables) or bits (coil/discrete) spanned. */
  count: number;
  type: DataType;
  order: Order;
  bit?: number;
  length: number;
  poll: number;
  writable: boolean;
}

export function pointSpec(p: ModbusPointConfig, device: Pick<ModbusDeviceConfig, 'address_base' | 'byte_order' | 'word_order' | 'poll'>): PointSpec {
  const bitTable = isBitTable(p.table);
  const type: DataType = p.type ?? (bitTable || p.bit !== undefined ? 'bool' : 'uint16');
  const order: Order = p.order
    ? (ORDER_ALIASES[p.order] ?? 'ABCD')
    : orderFrom(p.byte_order ?? device.byte_order, p.word_order ?? device.word_order);
  const length = p.length ?? 1;
  const spec: PointSpec = {
    name: p.name,
    table: p.table,
    address: p.address - device.address_base,
    count: bitTable ? 1 : registerCount(type, length),
    type,
    order,
    length,
    poll: p.poll ?? device.poll,
    writable: p.writable,
  };
  if (p.bit !== undefined) spec.bit = p.bit;
  return spec;
}

export function pointSpecs(device: ModbusDeviceConfig): PointSpec[] {
  return device.points.map((p) => pointSpec(p, device));
}

/** Points grouped by poll interval (ms), shortest first. */
export function pollGroups(specs: readonly PointSpec[]): { poll: number; points: PointSpec[] }[] {
  const by = new Map<number, PointSpec[]>();
  for (const s of specs) by.set(s.poll, [...(by.get(s.poll) ?? []), s]);
  return [...by.entries()].sort((a, b) => a[0] - b[0]).map(([poll, points]) => ({ poll, points }));
}

/**
 * Every reading of a block of registers side by side, for `citygate probe modbus
 * read`: a technician with a meter whose manual is vague about word order can see
 * which column makes sense (230.4 V, not 1.2e-38). Pure: registers in, text out.
 */
import { decodeBigInt, decodeRegisters, ORDERS, registerCount, type DataType, type Order } from './codec.js';
import type { Table } from './pdu.js';

const MANUAL_BASE: Partial<Record<Table, number>> = { coil: 1, discrete: 10001, input: 30001, holding: 40001 };

function fmt(v: unknown): string {
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return 'NaN';
    if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
    const a = Math.abs(v);
    if (Number.isInteger(v) && a < 1e15) return String(v);
    return a !== 0 && (a < 1e-4 || a >= 1e9) ? v.toExponential(4) : String(Number(v.toPrecision(7)));
  }
  return String(v);
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)];
}

/** The interpretations of `regs` read from `table` starting at protocol `address`. */
export function interpretRegisters(tableName: 'input' | 'holding', address: number, regs: readonly number[]): string {
  const base = MANUAL_BASE[tableName] ?? 0;
  const out: string[] = [];
  out.push(
    ...table(
      ['address', 'manual', 'hex', 'uint16', 'int16', 'bits 15..0'],
      regs.map((r, i) => [
        String(address + i),
        String(base + address + i),
        `0x${r.toString(16).padStart(4, '0')}`,
        String(r),
        String(r >= 0x8000 ? r - 0x10000 : r),
        r.toString(2).padStart(16, '0').replace(/(.{4})(?!$)/g, '$1 '),
      ]),
    ),
  );
  const wide = (type: DataType, width: number): void => {
    if (regs.length < width) return;
    out.push('', `${type} starting at each address (ABCD = big-endian, CDAB = word swap, BADC = byte swap, DCBA = little-endian):`);
    const rows: string[][] = [];
    for (let i = 0; i + width <= regs.length; i++) {
      const slice = regs.slice(i, i + width);
      const one = (o: (typeof ORDERS)[number]): string =>
        type === 'int64' || type === 'uint64' ? String(decodeBigInt(slice, type === 'int64', o)) : fmt(decodeRegisters(slice, type, o).value);
      rows.push([String(address + i), ...ORDERS.map(one)]);
    }
    out.push(...table(['address', ...ORDERS], rows));
  };
  for (const t of ['float32', 'int32', 'uint32'] as const) wide(t, 2);
  for (const t of ['float64', 'int64', 'uint64'] as const) wide(t, 4);
  const ascii = (o: 'ABCD' | 'BADC'): string => JSON.stringify(decodeRegisters(regs, 'string', o).value);
  out.push('', `as text: ${ascii('ABCD')} (high byte first), ${ascii('BADC')} (low byte first)`);
  return `${out.join('\n')}\n`;
}

/** Bits from coils or discrete inputs, eight to a line. */
export function interpretBits(tableName: 'coil' | 'discrete', address: number, bits: readonly boolean[]): string {
  const base = MANUAL_BASE[tableName] ?? 0;
  const rows: string[][] = [];
  for (let i = 0; i < bits.length; i += 8) {
    rows.push([`${address + i}`, `${base + address + i}`, bits.slice(i, i + 8).map((b) => (b ? '1' : '0')).join(' ')]);
  }
  return `${table(['address', 'manual', `values (${tableName} ${address}…)`], rows).join('\n')}\n`;
}

/**
 * `regs` decoded as consecutive values of one type and order (what a point config with
 * that type and order would emit), one line per value.
 */
export function decodeAs(address: number, regs: readonly number[], type: DataType, order: Order, length = 1): string {
  const n = registerCount(type, length);
  const rows: string[][] = [];
  for (let i = 0; i + n <= regs.length; i += n) {
    const slice = regs.slice(i, i + n);
    const shown = type === 'int64' || type === 'uint64' ? String(decodeBigInt(slice, type === 'int64', order)) : fmt(decodeRegisters(slice, type, order).value);
    rows.push([String(address + i), type === 'string' ? JSON.stringify(decodeRegisters(slice, type, order).value) : shown]);
  }
  if (rows.length === 0) return `too few registers for one ${type} (${n} needed)\n`;
  return `${table(['address', `${type} ${type === 'string' ? `(${length} registers)` : order}`], rows).join('\n')}\n`;
}

/**
 * Request planning: read a device's points in as few requests as the protocol and
 * the slave allow. Points of one table are sorted by address and merged greedily
 * while the merged read stays within the per-function limit (`maxRegisters`,
 * `maxBits`) and the unused span between neighbours is at most `maxGap` (×16 for bit
 * tables, where a gap costs bits, not registers). Pure.
 *
 * Reading across a gap can hit registers the slave does not implement; it then
 * answers "illegal data address" for the whole read. `splitRead` gives the next
 * finer plan for such a read (contiguous runs, then single points), which the
 * poller adopts for good, so one bad address ends up affecting only its own point.
 */
import { isBitTable, TABLES, type Table } from './pdu.js';

export interface PlanPoint {
  name: string;
  table: Table;
  address: number;
  count: number;
}

export interface PlannedRead<P extends PlanPoint = PlanPoint> {
  table: Table;
  address: number;
  count: number;
  points: P[];
}

export interface PlanOptions {
  maxGap: number;
  maxRegisters: number;
  maxBits: number;
}

export function planReads<P extends PlanPoint>(points: readonly P[], opts: PlanOptions): PlannedRead<P>[] {
  const out: PlannedRead<P>[] = [];
  for (const table of TABLES) {
    const bits = isBitTable(table);
    const limit = bits ? opts.maxBits : opts.maxRegisters;
    const gap = bits ? opts.maxGap * 16 : opts.maxGap;
    const sorted = points.filter((p) => p.table === table).sort((a, b) => a.address - b.address || b.count - a.count);
    let cur: PlannedRead<P> | undefined;
    for (const p of sorted) {
      const end = p.address + p.count;
      if (cur) {
        const curEnd = cur.address + cur.count;
        const newEnd = Math.max(curEnd, end);
        if (p.address - curEnd <= gap && newEnd - cur.address <= limit) {
          cur.count = newEnd - cur.address;
          cur.points.push(p);
          continue;
        }
      }
      cur = { table, address: p.address, count: p.count, points: [p] };
      out.push(cur);
    }
  }
  return out;
}

/** Registers (or bits) a read fetches that no point uses. */
export function wasted(read: PlannedRead): number {
  const used = new Set<number>();
  for (const p of read.points) for (let a = p.address; a < p.address + p.count; a++) used.add(a);
  return read.count - used.size;
}

/**
 * The next finer plan for a read the slave refused: its contiguous runs if it spans
 * gaps; else one read per distinct point range; `[]` if it is already one range.
 */
export function splitRead<P extends PlanPoint>(read: PlannedRead<P>): PlannedRead<P>[] {
  if (wasted(read) > 0) {
    const runs = planReads(read.points, { maxGap: 0, maxRegisters: read.count, maxBits: read.count });
    if (runs.length > 1) return runs;
  }
  const byRange = new Map<string, PlannedRead<P>>();
  for (const p of read.points) {
    const key = `${p.address}:${p.count}`;
    const r = byRange.get(key);
    if (r) r.points.push(p);
    else byRange.set(key, { table: read.table, address: p.address, count: p.count, points: [p] });
  }
  return byRange.size > 1 ? [...byRange.values()] : [];
}

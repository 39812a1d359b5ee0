import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { planReads, splitRead, wasted, type PlanPoint } from '../../../src/drivers/modbus/plan.js';

const pt = (name: string, address: number, count = 2, table: PlanPoint['table'] = 'input'): PlanPoint => ({ name, table, address, count });
const opts = { maxGap: 10, maxRegisters: 125, maxBits: 2000 };

describe('request planning', () => {
  it('merges contiguous and near points of one table into one read', () => {
    const reads = planReads([pt('v1', 0), pt('v2', 2), pt('v3', 4), pt('f', 70)], opts);
    expect(reads.map((r) => [r.table, r.address, r.count, r.points.map((p) => p.name)])).toEqual([
      ['input', 0, 6, ['v1', 'v2', 'v3']],
      ['input', 70, 2, ['f']],
    ]);
  });

  it('bridges a gap up to max_gap and not beyond', () => {
    expect(planReads([pt('a', 0), pt('b', 12)], opts)).toHaveLength(1); // gap of 10
    expect(planReads([pt('a', 0), pt('b', 13)], opts)).toHaveLength(2); // gap of 11
    expect(planReads([pt('a', 0), pt('b', 3)], { ...opts, maxGap: 0 })).toHaveLength(2);
  });

  it('keeps tables apart and respects the per-function limits', () => {
    const reads = planReads([pt('h', 0, 1, 'holding'), pt('i', 0, 1, 'input'), pt('c', 0, 1, 'coil'), pt('c2', 1999, 1, 'coil'), pt('c3', 2000, 1, 'coil')], { ...opts, maxGap: 125 });
    expect(reads.map((r) => `${r.table}:${r.address}+${r.count}`)).toEqual(['coil:0+2000', 'coil:2000+1', 'input:0+1', 'holding:0+1']);
    const many = Array.from({ length: 100 }, (_, i) => pt(`p${i}`, i * 2));
    expect(planReads(many, opts).map((r) => r.count)).toEqual([124, 76]);
    expect(planReads(many, { ...opts, maxRegisters: 80 }).map((r) => r.count)).toEqual([80, 80, 40]);
  });

  it('counts bit gaps ×16 on coil tables', () => {
    expect(planReads([pt('a', 0, 1, 'coil'), pt('b', 150, 1, 'coil')], opts)).toHaveLength(1);
    expect(planReads([pt('a', 0, 1, 'coil'), pt('b', 170, 1, 'coil')], opts)).toHaveLength(2);
  });

  it('lets overlapping points share registers', () => {
    const reads = planReads([pt('u32', 10, 2), pt('lo', 11, 1), pt('bit', 10, 1)], opts);
    expect(reads).toHaveLength(1);
    expect(reads[0]).toMatchObject({ address: 10, count: 2 });
  });

  it('100 float32 points at consecutive addresses need 2 requests, not 100', () => {
    const pts = Array.from({ length: 100 }, (_, i) => pt(`p${i}`, i * 2));
    expect(planReads(pts, opts)).toHaveLength(2);
  });

  it('splits a refused read: first into contiguous runs, then per point, then not at all', () => {
    const [read] = planReads([pt('a', 0), pt('b', 2), pt('c', 8)], opts);
    expect(wasted(read!)).toBe(4);
    const runs = splitRead(read!);
    expect(runs.map((r) => `${r.address}+${r.count}`)).toEqual(['0+4', '8+2']);
    expect(splitRead(runs[0]!).map((r) => `${r.address}+${r.count}`)).toEqual(['0+2', '2+2']);
    expect(splitRead(splitRead(runs[0]!)[0]!)).toEqual([]);
  });

  it('property: every point is covered by exactly one read within the limits', () => {
    const point = fc.record({
      table: fc.constantFrom('coil', 'discrete', 'input', 'holding') as fc.Arbitrary<PlanPoint['table']>,
      address: fc.integer({ min: 0, max: 2000 }),
      count: fc.integer({ min: 1, max: 4 }),
    });
    fc.assert(
      fc.property(fc.array(point, { maxLength: 60 }), fc.integer({ min: 0, max: 20 }), fc.integer({ min: 4, max: 125 }), (raw, gap, maxRegs) => {
        const pts = raw.map((p, i) => ({ ...p, name: `p${i}`, count: p.table === 'coil' || p.table === 'discrete' ? 1 : p.count }));
        const reads = planReads(pts, { maxGap: gap, maxRegisters: maxRegs, maxBits: 2000 });
        const seen = reads.flatMap((r) => r.points.map((p) => p.name));
        expect(seen.sort()).toEqual(pts.map((p) => p.name).sort());
        for (const r of reads) {
          expect(r.count).toBeLessThanOrEqual(r.table === 'coil' || r.table === 'discrete' ? 2000 : maxRegs);
          for (const p of r.points) {
            expect(p.table).toBe(r.table);
            expect(p.address).toBeGreaterThanOrEqual(r.address);
            expect(p.address + p.count).toBeLessThanOrEqual(r.address + r.count);
          }
        }
      }),
    );
  });
});

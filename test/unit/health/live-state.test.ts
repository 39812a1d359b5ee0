import { describe, expect, it } from 'vitest';
import { LiveState } from '../../../src/health/live.js';
import type { Reading } from '../../../src/core/reading.js';

const r = (device: string, point: string, value: number, unit?: string): Reading => ({ device, point, value, ts: 1000 + value, quality: 'good', ...(unit ? { unit } : {}) });

describe('LiveState', () => {
  it('keeps the last reading of every point, sorted by device then point', () => {
    const live = new LiveState();
    live.noteReading(r('b', 'x', 1));
    live.noteReading(r('a', 'y', 2, 'V'));
    live.noteReading(r('a', 'x', 3));
    live.noteReading(r('a', 'y', 4, 'V'));
    expect(live.lastPoints()).toEqual([
      { device: 'a', point: 'x', value: 3, quality: 'good', ts: 1003 },
      { device: 'a', point: 'y', value: 4, quality: 'good', ts: 1004, unit: 'V' },
      { device: 'b', point: 'x', value: 1, quality: 'good', ts: 1001 },
    ]);
    expect(live.version).toBe(4);
  });
  it('remembers at most 5000 points; known points still update', () => {
    const live = new LiveState();
    for (let i = 0; i < 5100; i++) live.noteReading(r(`d${i % 7}`, `p${i}`, i));
    expect(live.lastPoints()).toHaveLength(5000);
    live.noteReading(r('d0', 'p0', 42));
    expect(live.lastPoints().find((p) => p.device === 'd0' && p.point === 'p0')?.value).toBe(42);
  });
});

/** The PUBACK latency histogram: cumulative buckets, sum and count, quantiles as bucket bounds. */
import { describe, expect, it } from 'vitest';
import { Histogram } from '../../../src/core/histogram.js';

describe('Histogram', () => {
  it('keeps cumulative buckets, the sum and the count; quantiles are bucket upper bounds', () => {
    const h = new Histogram([10, 100, 1000]);
    expect(h.quantile(0.5)).toBeUndefined();
    for (const v of [5, 7, 50, 80, 90, 500, 5000, Number.NaN]) h.observe(v);
    expect(h.snapshot()).toEqual({ buckets: { '10': 2, '100': 5, '1000': 6, '+Inf': 7 }, sum: 5732, count: 7 });
    expect(h.quantile(0.25)).toBe(10);
    expect(h.quantile(0.5)).toBe(100);
    expect(h.quantile(0.99)).toBe(1000); // past the last bound: the last bound, read as "at least"
  });
});

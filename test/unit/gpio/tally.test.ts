import { describe, expect, it } from 'vitest';
import { PulseTally, isPulse, parseStoredTotal, tidy } from '../../../src/drivers/gpio/tally.js';

describe('pulse arithmetic', () => {
  it('counts the configured edge only', () => {
    expect([isPulse('falling', 0), isPulse('falling', 1)]).toEqual([true, false]);
    expect([isPulse('rising', 0), isPulse('rising', 1)]).toEqual([false, true]);
    expect([isPulse('both', 0), isPulse('both', 1)]).toEqual([true, true]);
  });

  it('turns a minute of rain-gauge tips into mm, mm/h and a running total', () => {
    const t = new PulseTally(100, 0);
    t.pulse(10);
    const r = t.report(60_000, 0.2794, 3_600_000);
    expect(r).toEqual({ pulses: 10, count: 2.794, rate: 167.64, totalPulses: 110, total: 30.734, elapsedMs: 60_000 });
    // the next interval starts empty, from the report's time
    t.pulse();
    expect(t.report(90_000, 0.2794, 3_600_000)).toMatchObject({ pulses: 1, rate: 33.528, totalPulses: 111 });
  });

  it('uses the real interval length for the rate (a late timer does not inflate it)', () => {
    const t = new PulseTally(0, 0);
    t.pulse(10);
    expect(t.report(120_000, 1, 3_600_000).rate).toBe(300);
  });

  it('reports a zero rate for a zero-length interval rather than Infinity', () => {
    const t = new PulseTally(0, 5);
    t.pulse();
    expect(t.report(5, 1, 1000).rate).toBe(0);
  });

  it('tidy() removes float noise only', () => {
    expect(0.2794 * 10).not.toBe(2.794);
    expect(tidy(0.2794 * 10)).toBe(2.794);
    expect(tidy(1 / 3)).toBeCloseTo(1 / 3, 11);
  });

  it('accepts only a non-negative integer as a stored total', () => {
    expect(parseStoredTotal(undefined)).toBeUndefined();
    expect(parseStoredTotal(42)).toBe(42);
    for (const bad of [-1, 1.5, '42', {}, Number.NaN]) expect(parseStoredTotal(bad)).toBe('damaged');
  });
});

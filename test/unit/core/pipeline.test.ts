import { describe, expect, it } from 'vitest';
import { DevicePipeline } from '../../../src/pipeline/pipeline.js';
import { FakeClock } from '../../../src/core/fake-clock.js';

describe('DevicePipeline', () => {
  it('scales, offsets, rounds and stamps', () => {
    const clock = new FakeClock({ wall: 1_700_000_000_000 });
    const p = new DevicePipeline('m', [{ name: 'e', scale: 0.01, offset: 1, precision: 2, unit: 'kWh' }], clock);
    expect(p.process({ point: 'e', value: 12345 })).toEqual({ device: 'm', point: 'e', value: 124.45, unit: 'kWh', ts: 1_700_000_000_000, quality: 'good' });
    expect(p.process({ point: 'e', value: 1, ts: 5 })?.ts).toBe(5);
    expect(p.process({ point: 'other', value: 'x' })).toMatchObject({ value: 'x', quality: 'good' });
  });

  it('marks non-finite values bad with a null value, and out-of-range values bad', () => {
    const p = new DevicePipeline('m', [{ name: 't', valid_range: [-40, 85] }], new FakeClock());
    expect(p.process({ point: 't', value: NaN })).toMatchObject({ value: null, quality: 'bad' });
    expect(p.process({ point: 't', value: 120 })).toMatchObject({ value: 120, quality: 'bad' });
    expect(p.process({ point: 't', value: 20 })).toMatchObject({ quality: 'good' });
  });

  it('checks finiteness after scaling: an overflow is null and bad, never Infinity on the wire', () => {
    const p = new DevicePipeline('m', [{ name: 'x', scale: 10 }, { name: 'y', offset: 1e308, scale: 1e10, precision: 2 }], new FakeClock());
    expect(p.process({ point: 'x', value: 1e308 })).toMatchObject({ value: null, quality: 'bad' });
    expect(p.process({ point: 'y', value: 1e300 })).toMatchObject({ value: null, quality: 'bad' });
    expect(p.process({ point: 'x', value: Infinity })).toMatchObject({ value: null, quality: 'bad' });
    expect(p.process({ point: 'x', value: 2 })).toMatchObject({ value: 20, quality: 'good' });
  });

  it('driver timestamps follow the same trust rule as the runtime clock', () => {
    const clock = new FakeClock({ wall: Date.UTC(2026, 0, 1) });
    let trusted = false;
    const p = new DevicePipeline('g', [], clock, () => trusted);
    const edge = Date.UTC(2026, 0, 1, 0, 0, 1);
    expect(p.process({ point: 'door', value: true, ts: edge })?.quality).toBe('uncertain'); // a GPIO edge, stamped by the same unsynced clock
    expect(p.process({ point: 'fix', value: 1, ts: edge, tsExternal: true })?.quality).toBe('good'); // a GPS time is its own
    expect(p.process({ point: 'fix', value: 1, ts: 5, tsExternal: true })?.quality).toBe('uncertain'); // 1970 is never plausible
    trusted = true;
    expect(p.process({ point: 'door', value: true, ts: edge })?.quality).toBe('good');
    expect(p.process({ point: 'door', value: true, ts: 1000 })?.quality).toBe('uncertain');
  });

  it('report-on-change: deadband, max silence and quality changes', () => {
    const clock = new FakeClock();
    const p = new DevicePipeline('m', [{ name: 'v', deadband: 1, max_silence: 60_000 }], clock);
    const out = (v: number, q?: 'bad') => p.process(q ? { point: 'v', value: v, quality: q } : { point: 'v', value: v }) !== undefined;
    expect(out(230)).toBe(true); // first always reported
    expect(out(230.5)).toBe(false);
    expect(out(229.2)).toBe(false); // 0.8 from the last report (230)
    expect(out(228.9)).toBe(true); // 1.1 from 230
    clock.advance(59_000);
    expect(out(229)).toBe(false);
    clock.advance(1_000);
    expect(out(229)).toBe(true); // max_silence reached
    expect(out(229, "bad")).toBe(true); // quality changed
    expect(out(229, "bad")).toBe(false);
  });
});

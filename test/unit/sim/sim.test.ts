import { describe, expect, it } from 'vitest';
import { SimDriver, simDriver } from '../../../src/drivers/sim/index.js';
import { simDeviceSchema } from '../../../src/drivers/sim/schema.js';
import { waveValue, initialState } from '../../../src/drivers/sim/waves.js';
import { FakeClock } from '../../../src/core/fake-clock.js';
import { testContext } from '../../helpers/driver-context.js';

const device = (over: Record<string, unknown>) => simDeviceSchema.parse({ id: 's', driver: 'sim', points: [{ name: 'x' }], ...over });

describe('sim waves', () => {
  const p = (over: Record<string, unknown>) => simDeviceSchema.parse({ id: 's', driver: 'sim', points: [{ name: 'x', ...over }] }).points[0]!;
  it('shapes stay within [min, max] and have the right period', () => {
    const sine = p({ wave: 'sine', min: 10, max: 20, period: '1m' });
    const st = initialState(sine);
    expect(waveValue(sine, 0, st, Math.random)).toBeCloseTo(15);
    expect(waveValue(sine, 15_000, st, Math.random)).toBeCloseTo(20);
    expect(waveValue(sine, 45_000, st, Math.random)).toBeCloseTo(10);
    expect(waveValue(sine, 60_000, st, Math.random)).toBeCloseTo(15);
    const sq = p({ wave: 'square', min: 0, max: 1, period: '10s' });
    expect([0, 4_999, 5_000, 9_999].map((t) => waveValue(sq, t, st, Math.random))).toEqual([1, 1, 0, 0]);
    const saw = p({ wave: 'sawtooth', min: 0, max: 100, period: '100s' });
    expect(waveValue(saw, 25_000, st, Math.random)).toBeCloseTo(25);
    const tri = p({ wave: 'triangle', min: 0, max: 100, period: '100s' });
    expect(waveValue(tri, 75_000, st, Math.random)).toBeCloseTo(50);
  });
  it('random walk is bounded and seeded; counters count; steps cycle', () => {
    const walk = p({ wave: 'random_walk', min: 0, max: 1, step: 5 });
    const st = initialState(walk);
    for (let i = 0; i < 100; i++) {
      const v = waveValue(walk, i, st, Math.random) as number;
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
    }
    const c = p({ wave: 'counter', min: 10, step: 2 });
    const cs = initialState(c);
    expect([0, 1, 2].map(() => waveValue(c, 0, cs, Math.random))).toEqual([10, 12, 14]);
    const s = p({ wave: 'step', values: ['a', 'b'], period: '1s' });
    expect([0, 999, 1000, 2000].map((t) => waveValue(s, t, st, Math.random))).toEqual(['a', 'a', 'b', 'a']);
  });
  it('rejects configs that cannot work', () => {
    expect(() => p({ wave: 'step' })).toThrow(/values/);
    expect(() => p({ wave: 'sine', min: 5, max: 1 })).toThrow(/above max/);
  });
});

describe('sim driver', () => {
  it('samples every point once per poll, on the injected clock', async () => {
    const clock = new FakeClock();
    const ctx = testContext({ clock });
    const d = new SimDriver(device({ poll: '1s', points: [{ name: 'a' }, { name: 'b', replicas: 3 }] }));
    await d.start(ctx);
    expect(ctx.samples.map((s) => s.point)).toEqual(['a', 'b_0', 'b_1', 'b_2']);
    clock.advance(3000);
    expect(ctx.samples.length).toBe(16);
    await d.stop();
    clock.advance(3000);
    expect(ctx.samples.length).toBe(16);
  });

  it('catches up when the loop was late (high rates are real)', async () => {
    const clock = new FakeClock();
    const ctx = testContext({ clock });
    const d = new SimDriver(device({ poll: '1ms', points: [{ name: 'p', replicas: 100 }] }));
    await d.start(ctx);
    // One timer firing 250 ms late must still yield 250 polls of 100 points.
    const cancelAll = clock.pending();
    expect(cancelAll).toBe(1);
    clock.advance(250);
    expect(ctx.samples.length).toBe(251 * 100);
    await d.stop();
  });

  it('error_rate reports failed polls to health instead of readings', async () => {
    const clock = new FakeClock();
    const ctx = testContext({ clock });
    const d = new SimDriver(device({ poll: '10ms', error_rate: 0.5, seed: 42 }));
    await d.start(ctx);
    clock.advance(10_000);
    await d.stop();
    const errors = ctx.health.snapshot().errors;
    expect(errors).toBeGreaterThan(300);
    expect(errors + ctx.samples.length).toBe(1001);
  });

  it('expands replicas into pipeline point configs', () => {
    const cfg = device({ points: [{ name: 't', unit: 'degC', replicas: 2 }] });
    expect(simDriver.pointConfigs?.(cfg).map((p) => [p.name, p.unit])).toEqual([
      ['t_0', 'degC'],
      ['t_1', 'degC'],
    ]);
  });
});

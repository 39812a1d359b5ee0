import { describe, expect, it } from 'vitest';
import { Backoff } from '../../../src/core/backoff.js';
import { FakeClock } from '../../../src/core/fake-clock.js';
import { sleep } from '../../../src/core/clock.js';

describe('Backoff', () => {
  it('doubles up to the cap, without jitter', () => {
    const b = new Backoff({ base: 100, max: 1000, jitter: 0 }, () => 0.5);
    expect([b.next(), b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([100, 200, 400, 800, 1000, 1000]);
    b.reset();
    expect(b.next()).toBe(100);
  });

  it('spreads a fleet with full jitter', () => {
    const delays = [0, 0.25, 0.5, 0.99].map((x) => new Backoff({ base: 1000, max: 60_000, jitter: 1 }, () => x).next());
    expect(delays).toEqual([0, 250, 500, 990]);
    let seed = 1;
    const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const fleet = Array.from({ length: 1000 }, () => {
      const b = new Backoff({ base: 1000, max: 60_000, jitter: 0.5 }, rnd);
      b.next();
      b.next();
      return b.next(); // third attempt: between 2000 and 4000
    });
    expect(Math.min(...fleet)).toBeGreaterThanOrEqual(2000);
    expect(Math.max(...fleet)).toBeLessThanOrEqual(4000);
    expect(new Set(fleet.map((d) => Math.floor(d / 100))).size).toBeGreaterThan(15); // not in lockstep
  });

  it('drives a retry loop in fake time', async () => {
    const clock = new FakeClock();
    const b = new Backoff({ base: 1000, max: 8000, jitter: 0 }, () => clock.random());
    const attempts: number[] = [];
    const loop = (async () => {
      for (let i = 0; i < 5; i++) {
        attempts.push(clock.mono());
        await sleep(clock, b.next());
      }
    })();
    for (let t = 0; t < 40; t++) {
      await Promise.resolve();
      clock.advance(1000);
      await new Promise((r) => setImmediate(r));
    }
    await loop;
    expect(attempts).toEqual([0, 1000, 3000, 7000, 15000]);
  });
});

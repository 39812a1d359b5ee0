import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/core/fake-clock.js';
import type { Level } from '../../../src/ports/gpio/port.js';
import { Debouncer } from '../../../src/drivers/gpio/debounce.js';

function setup(debounceMs: number, initial: Level = 1) {
  const clock = new FakeClock();
  const changes: [Level, number][] = [];
  const d = new Debouncer(clock, debounceMs, initial, (l, at) => changes.push([l, at]));
  return { clock, d, changes };
}

describe('Debouncer (settle rule on the injected clock)', () => {
  it('accepts a reed-switch closure after its bounces settle, stamped at the first transition', () => {
    const { clock, d, changes } = setup(20);
    clock.advance(1000);
    // the contact closes at t=1000 and bounces for 3 ms
    for (const [dt, v] of [[0, 0], [1, 1], [1, 0], [1, 1], [0.5, 0]] as const) {
      clock.advance(dt);
      d.raw(v);
    }
    clock.advance(19);
    expect(changes).toEqual([]);
    clock.advance(1);
    expect(changes).toEqual([[0, 1000]]);
    expect(d.stable).toBe(0);
    expect(d.stats).toEqual({ raw: 5, accepted: 1, rejected: 0 });
  });

  it('drops a spike shorter than the debounce time', () => {
    const { clock, d, changes } = setup(20, 0);
    d.raw(1);
    clock.advance(5);
    d.raw(0);
    clock.advance(100);
    expect(changes).toEqual([]);
    expect(d.stats.rejected).toBe(1);
    expect(d.stable).toBe(0);
  });

  it('restarts the settle time when the same level is reported twice (a missed edge in between)', () => {
    const { clock, d, changes } = setup(20, 1);
    d.raw(0);
    clock.advance(15);
    d.raw(0);
    clock.advance(15);
    expect(changes).toEqual([]);
    clock.advance(5);
    expect(changes).toEqual([[0, 0]]);
  });

  it('with debounce 0 passes every real change straight through', () => {
    const { d, changes } = setup(0, 0);
    const spans: number[] = [];
    d.onRejected = (span) => spans.push(span);
    d.raw(1);
    d.raw(1); // the same level again: two edges merged, reported as a rejected burst of 0 ms
    d.raw(0);
    expect(changes.map((c) => c[0])).toEqual([1, 0]);
    expect(spans).toEqual([0]);
  });

  it('reports each rejected burst with its length, first to last transition', () => {
    const { clock, d } = setup(20, 1);
    const spans: number[] = [];
    d.onRejected = (span) => spans.push(span);
    d.raw(0);
    clock.advance(3);
    d.raw(1);
    clock.advance(50);
    d.raw(0);
    clock.advance(12);
    d.raw(1);
    clock.advance(50);
    expect(spans).toEqual([3, 12]);
  });

  it('dispose() cancels a pending change', () => {
    const { clock, d, changes } = setup(20, 1);
    d.raw(0);
    d.dispose();
    clock.advance(100);
    expect(changes).toEqual([]);
    expect(clock.pending()).toBe(0);
  });

  it('property: accepted levels alternate, and each was held for the debounce time', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 60 }), fc.constantFrom<Level>(0, 1)), { maxLength: 200 }),
        fc.integer({ min: 1, max: 40 }),
        (events, debounce) => {
          const { clock, d, changes } = setup(debounce, 0);
          let level: Level = 0;
          let lastRaw = 0;
          const holds: number[] = [];
          for (const [dt, v] of events) {
            clock.advance(dt);
            if (changes.length > holds.length) holds.push(clock.mono() - lastRaw);
            d.raw(v);
            level = v;
            lastRaw = clock.mono();
          }
          clock.advance(debounce);
          let prev: Level = 0;
          for (const [l] of changes) {
            expect(l).not.toBe(prev);
            prev = l;
          }
          // the final stable level is the last raw level once the line has settled
          expect(d.stable).toBe(level);
          for (const h of holds) expect(h).toBeGreaterThanOrEqual(debounce);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('Debouncer + isPulse: a bouncing rain gauge counts every tip exactly once', () => {
  it('property: N tips with random bounces shorter than the debounce give N pulses', async () => {
    const { isPulse } = await import('../../../src/drivers/gpio/tally.js');
    fc.assert(
      fc.property(
        fc.integer({ min: 5, max: 50 }), // debounce ms
        fc.array(
          fc.record({
            bounces: fc.integer({ min: 0, max: 6 }),
            bounceGap: fc.double({ min: 0.05, max: 1, noNaN: true }), // × debounce / 8
            hold: fc.double({ min: 1.1, max: 10, noNaN: true }), // × debounce
            gap: fc.double({ min: 1.1, max: 10, noNaN: true }), // × debounce
          }),
          { maxLength: 40 },
        ),
        (debounce, tips) => {
          const clock = new FakeClock();
          let pulses = 0;
          const d = new Debouncer(clock, debounce, 1, (level) => {
            if (isPulse('falling', level)) pulses++;
          });
          const bounce = (to: Level, n: number, gapMs: number): void => {
            // contact moves to `to`, bouncing back n times before it stays
            for (let i = 0; i < n; i++) {
              d.raw(to);
              clock.advance(gapMs);
              d.raw((1 - to) as Level);
              clock.advance(gapMs);
            }
            d.raw(to);
          };
          for (const t of tips) {
            const g = (t.bounceGap * debounce) / 8;
            bounce(0, t.bounces, g);
            clock.advance(t.hold * debounce);
            bounce(1, t.bounces, g);
            clock.advance(t.gap * debounce);
          }
          expect(pulses).toBe(tips.length);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('Debouncer with kernel timestamps', () => {
  it('measures bursts on the edge times, however late the edges are handled', () => {
    const { clock, d, changes } = setup(20, 1);
    const rejected: number[] = [];
    d.onRejected = (span) => rejected.push(span);
    clock.advance(1000);
    // three pulses (25 ms levels) that happened while the loop was stalled, handled at once
    for (const [level, at] of [[0, 800], [1, 825], [0, 850], [1, 875], [0, 900], [1, 925]] as const) d.raw(level, at);
    expect(changes).toEqual([[0, 800], [1, 825], [0, 850], [1, 875], [0, 900]]);
    clock.advance(1); // the last edge's settle time (945) is past: it settles on the next turn
    expect(changes.at(-1)).toEqual([1, 925]);
    expect(rejected).toEqual([]);
  });

  it('reports an edge that arrives after the decision it belonged to', () => {
    const { clock, d, changes } = setup(20, 1);
    let late = 0;
    d.onLate = () => late++;
    clock.advance(100);
    d.raw(0, 100);
    clock.advance(30); // settled as 0 at 120 (plus a turn)
    expect(changes).toEqual([[0, 100]]);
    d.raw(1, 110); // the kernel saw this at 110: the level had not held 20 ms
    expect(late).toBe(1);
  });
});

/**
 * A count the gateway cannot vouch for is never `good`. The counter runs on a FakeClock
 * (debounce and reports are deterministic) while the event-loop monitor measures the real
 * loop: the stalls here are real, a busy wait that blocks this process's event loop, and
 * the edges that happened "during" it are delivered as sysfs would after a stall — one
 * notification, the value read afterwards (FakeLine.coalesce).
 *
 * The debounce is 1 s so the stall limit (half of it, 500 ms) sits far above the incidental
 * lag of a loaded test machine; the injected stalls are 700 ms. Fake time is free, so the
 * pulses are long to match.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/core/fake-clock.js';
import { GpioDriver } from '../../../src/drivers/gpio/index.js';
import { EventLoopLag, lagResolutionMs } from '../../../src/drivers/gpio/loop-lag.js';
import { gpioDeviceSchema } from '../../../src/drivers/gpio/schema.js';
import { CountVouch } from '../../../src/drivers/gpio/vouch.js';
import { FakeGpioPort } from '../../../src/ports/gpio/fake-port.js';
import type { Level } from '../../../src/ports/gpio/port.js';
import { testContext } from '../../helpers/driver-context.js';

const realTick = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Blocks the event loop for real, as an SQLite commit or a GC pause would. */
function stallLoop(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // busy: no timer, no I/O callback, no edge handler runs meanwhile
  }
}

async function counter(debounce = '1s') {
  const clock = new FakeClock();
  const port = new FakeGpioPort();
  port.initialLevels.set(17, 1);
  const ctx = testContext({ clock, device: 'rain' });
  const cfg = gpioDeviceSchema.parse({ id: 'rain', driver: 'gpio', pin: 17, mode: 'counter', edge: 'falling', debounce, report: '60s' });
  const driver = new GpioDriver(cfg, () => port);
  await driver.start(ctx);
  await realTick(20); // the monitor's first tick: it measures from there on
  return { clock, ctx, driver, line: port.line(17) };
}

type Line = Awaited<ReturnType<typeof counter>>['line'];

/**
 * One tip: the contact closes with bounces (inside the closure's own burst), holds 2 s, opens.
 * `touch`: first a 1 ms touch 1.5 s before the closure, a burst the debouncer rejects.
 */
async function bouncyTip(clock: FakeClock, line: Line, touch = false): Promise<void> {
  if (touch) {
    await line.drive(0);
    clock.advance(1);
    await line.drive(1);
  }
  clock.advance(1500);
  for (const v of [0, 1, 0] as Level[]) {
    await line.drive(v);
    clock.advance(1);
  }
  clock.advance(2000);
  await line.drive(1);
  clock.advance(2000);
}

async function closeWindow(clock: FakeClock, ctx: ReturnType<typeof testContext>): Promise<{ count: unknown; quality: unknown }> {
  const before = ctx.samples.length;
  clock.advance(60_000 - (clock.mono() % 60_000));
  await realTick(1);
  const count = ctx.samples.slice(before).find((s) => s.point === 'count');
  expect(ctx.samples.slice(before).every((s) => s.quality === count?.quality)).toBe(true);
  return { count: count?.value, quality: count?.quality };
}

describe('counter quality: good only when the count is exact', () => {
  it('keeps exact windows good, bounces and all; a rejected burst or a stall-merged pulse makes a window uncertain', async () => {
    const { clock, ctx, driver, line } = await counter();

    // Window 1: five tips, each closure bouncing; the loop is never stalled.
    for (let i = 0; i < 5; i++) await bouncyTip(clock, line);
    expect(await closeWindow(clock, ctx)).toEqual({ count: 5, quality: 'good' });
    expect(ctx.health.snapshot().counters.bounces_rejected ?? 0).toBe(0);

    // Window 1b: one tip after a 1 ms touch. Without the kernel's timestamps the rejected
    // touch may as well be a whole pulse whose edges were reported late (vouch.ts): uncertain.
    await bouncyTip(clock, line, true);
    expect(await closeWindow(clock, ctx)).toEqual({ count: 1, quality: 'uncertain' });
    expect(ctx.health.snapshot().counters).toMatchObject({ bounces_rejected: 1, uncertain_untimed_burst: 1 });

    // Window 2: two tips, then the loop blocks for 700 ms while a whole tip comes and goes.
    for (let i = 0; i < 2; i++) await bouncyTip(clock, line);
    await realTick(30); // past the window's first monitor tick (a stall there is in one reading only)
    stallLoop(700);
    await line.coalesce([0, 1]); // one notification after the stall, reading 1 again
    await realTick(30); // the loop runs again: the monitor records the stall
    clock.advance(1100);
    expect(await closeWindow(clock, ctx)).toEqual({ count: 2, quality: 'uncertain' }); // 3 tips happened
    const counters = ctx.health.snapshot().counters;
    expect(counters.uncertain_loop_stall).toBe(1);
    expect(counters.uncertain_reports).toBe(2);

    // Windows 3 and 4: bounces again, no stall. Window 3's reading still covers window 2's
    // stall (a stall near a boundary may show its rejected burst in the next window), so its
    // touch makes it uncertain; window 4, bounces inside the changes only, is good.
    await bouncyTip(clock, line, true);
    expect(await closeWindow(clock, ctx)).toEqual({ count: 1, quality: 'uncertain' });
    expect(ctx.health.snapshot().counters.uncertain_loop_stall).toBe(2);
    await bouncyTip(clock, line);
    expect(await closeWindow(clock, ctx)).toEqual({ count: 1, quality: 'good' });
    await driver.stop();
  });

  it('a stall without any rejected burst loses nothing and stays good', async () => {
    const { clock, ctx, driver, line } = await counter();
    await line.drive(0);
    stallLoop(700); // edges after this are handled late, but both levels of each pulse stay long
    await realTick(30);
    clock.advance(1500);
    await line.drive(1);
    clock.advance(1500);
    expect(await closeWindow(clock, ctx)).toEqual({ count: 1, quality: 'good' });
    expect(ctx.health.snapshot().counters.uncertain_reports).toBeUndefined();
    await driver.stop();
  });

  it('a rejected burst as long as half the debounce is a pulse too short to count: uncertain', async () => {
    const { clock, ctx, driver, line } = await counter();
    await line.drive(0);
    clock.advance(600); // 600 ms low: a real pulse, below the 1 s debounce
    await line.drive(1);
    clock.advance(2000);
    expect(await closeWindow(clock, ctx)).toEqual({ count: 0, quality: 'uncertain' });
    expect(ctx.health.snapshot().counters.uncertain_short_burst).toBe(1);
    await driver.stop();
  });

  it('is uncertain when a burst is still settling at the report right after a stall', async () => {
    const { clock, ctx, driver, line } = await counter();
    clock.advance(60_000 - 50);
    stallLoop(700);
    await realTick(30);
    await line.coalesce([0]);
    expect(await closeWindow(clock, ctx)).toEqual({ count: 0, quality: 'uncertain' });
    clock.advance(1100); // it settles in the next window: the pulse is counted there
    expect(await closeWindow(clock, ctx)).toMatchObject({ count: 1 });
    await driver.stop();
  });
});

describe('CountVouch', () => {
  it('on sysfs: good only with no burst rejected, no long change, and no stall over an open burst', () => {
    const v = new CountVouch(20);
    expect(v.close(50, false)).toEqual({ quality: 'good', reasons: [] }); // stall, nothing rejected
    v.burstAccepted(9.9); // a closure's bounces, inside its change
    expect(v.close(0, false)).toEqual({ quality: 'good', reasons: [] });
    v.burstRejected(3); // a bounce, or a pulse whose edges were reported late: no telling
    expect(v.close(9.9, false)).toEqual({ quality: 'uncertain', reasons: ['untimed_burst'] });
    v.burstRejected(3);
    expect(v.close(10, false)).toEqual({ quality: 'uncertain', reasons: ['loop_stall', 'untimed_burst'] });
    expect(v.close(10, true)).toEqual({ quality: 'uncertain', reasons: ['loop_stall'] });
    v.burstRejected(10);
    expect(v.close(0, false)).toEqual({ quality: 'uncertain', reasons: ['short_burst'] });
    v.burstAccepted(10); // pulses faster than the debounce, merged into one change
    expect(v.close(0, false)).toEqual({ quality: 'uncertain', reasons: ['long_burst'] });
    expect(v.close(0, false)).toEqual({ quality: 'good', reasons: [] });
  });

  it('with kernel timestamps a stall and a short bounce are harmless; a late edge or a long change is uncertain', () => {
    const v = new CountVouch(20);
    v.timestamped = true;
    v.burstRejected(3);
    expect(v.close(500, true)).toEqual({ quality: 'good', reasons: [] });
    v.lateEdge();
    expect(v.close(0, false)).toEqual({ quality: 'uncertain', reasons: ['late_edge'] });
    v.burstAccepted(12);
    expect(v.close(0, false)).toEqual({ quality: 'uncertain', reasons: ['long_burst'] });
  });

  it('with no debounce, any merged notification is uncertain', () => {
    const v = new CountVouch(0);
    v.burstRejected(0);
    expect(v.close(0, false).quality).toBe('uncertain');
  });
});

describe('EventLoopLag', () => {
  it('sees a real stall, including one right after a window closed', async () => {
    const lag = new EventLoopLag(lagResolutionMs(20));
    try {
      await realTick(20);
      lag.closeWindow();
      stallLoop(120); // starts at once: the histogram just reset has not ticked yet
      await realTick(20);
      expect(lag.closeWindow()).toBeGreaterThanOrEqual(120);
      await realTick(20);
      lag.closeWindow();
      await realTick(20);
      stallLoop(120); // later in a window: in this window's reading and the next one's
      await realTick(20);
      expect(lag.closeWindow()).toBeGreaterThanOrEqual(120);
      await realTick(20);
      expect(lag.closeWindow()).toBeGreaterThanOrEqual(120);
    } finally {
      lag.stop();
    }
  });

  it('ticks at a quarter of the debounce, between 1 and 10 ms', () => {
    expect([0, 4, 20, 40, 200].map(lagResolutionMs)).toEqual([1, 1, 5, 10, 10]);
  });
});

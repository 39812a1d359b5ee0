import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/core/fake-clock.js';
import { MemoryStateStore } from '../../../src/core/state-store.js';
import { GpioDriver, gpioDriver } from '../../../src/drivers/gpio/index.js';
import { TOTAL_KEY } from '../../../src/drivers/gpio/counter.js';
import { gpioDeviceSchema, gpioLineRef, type GpioDeviceConfig } from '../../../src/drivers/gpio/schema.js';
import { FakeGpioPort, fakeKey } from '../../../src/ports/gpio/fake-port.js';
import type { Level } from '../../../src/ports/gpio/port.js';
import { testContext } from '../../helpers/driver-context.js';

const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

function config(raw: Record<string, unknown>): GpioDeviceConfig {
  return gpioDeviceSchema.parse({ id: 'dev', driver: 'gpio', ...raw });
}

async function started(raw: Record<string, unknown>, opts: { state?: MemoryStateStore; initial?: Level; clock?: FakeClock } = {}) {
  const clock = opts.clock ?? new FakeClock();
  const port = new FakeGpioPort();
  const cfg = config(raw);
  const ref = gpioLineRef(cfg);
  if (opts.initial !== undefined) port.initialLevels.set(typeof ref === 'number' ? ref : fakeKey(ref), opts.initial);
  const ctx = testContext({ clock, device: cfg.id, ...(opts.state ? { state: opts.state } : {}) });
  const driver = new GpioDriver(cfg, () => port);
  await driver.start(ctx);
  return { clock, port, ctx, driver, line: port.line(ref) };
}

/** A reed switch closing: bounces for ~3 ms, then holds `holdMs`, then opens (bouncing too). */
async function tip(clock: FakeClock, line: ReturnType<FakeGpioPort['line']>, holdMs = 100): Promise<void> {
  for (const v of [0, 1, 0, 1, 0] as Level[]) {
    await line.drive(v);
    clock.advance(0.7);
  }
  clock.advance(holdMs);
  for (const v of [1, 0, 1] as Level[]) {
    await line.drive(v);
    clock.advance(0.7);
  }
  clock.advance(100);
}

describe('gpio driver: input', () => {
  it('emits the level at start, each debounced change once, and a heartbeat', async () => {
    const { clock, ctx, line, driver } = await started({ pin: 22, mode: 'input', point: 'door', report: '10s', active_low: true }, { initial: 1 });
    expect(line.opts).toMatchObject({ direction: 'in', edge: 'both', activeLow: true });
    expect(ctx.samples).toEqual([{ point: 'door', value: 1 }]);

    clock.advance(2000);
    await line.drive(0);
    clock.advance(1);
    await line.drive(1); // bounce
    clock.advance(1);
    await line.drive(0);
    clock.advance(25);
    expect(ctx.samples.slice(1)).toEqual([{ point: 'door', value: 0, ts: clock.now() - 27 }]);

    clock.advance(10_000 - 2027);
    await flush();
    expect(ctx.samples.at(-1)).toEqual({ point: 'door', value: 0 });
    expect(ctx.samples).toHaveLength(3);
    await driver.stop();
    expect(line.closed).toBe(true);
    expect(clock.pending()).toBe(0);
  });

  it('re-syncs on the heartbeat when an edge was missed', async () => {
    const { clock, ctx, line } = await started({ pin: 22, mode: 'input', report: '5s' }, { initial: 0 });
    line.level = 1; // changed without an interrupt
    clock.advance(5000);
    await flush();
    clock.advance(20);
    expect(ctx.samples.map((s) => s.value)).toEqual([0, 0, 1]);
    expect(ctx.health.snapshot().counters.missed_edges).toBe(1);
  });

  it('asks for a restart after three failed reads, naming device and pin', async () => {
    const { clock, ctx, line } = await started({ pin: 5, mode: 'input', report: '1s' });
    line.failWith = new Error('EIO');
    for (let i = 0; i < 3; i++) {
      clock.advance(1000);
      await flush();
    }
    expect(ctx.failures).toHaveLength(1);
    expect(String(ctx.failures[0])).toMatch(/gpio device "dev" \(GPIO 5\): 3 reads failed in a row, last: EIO/);
    expect(ctx.health.snapshot().state).toBe('down');
  });
});

describe('gpio driver: counter', () => {
  const rain = { pin: 17, mode: 'counter', edge: 'falling', debounce: '20ms', report: '60s', scale: 0.2794, unit: 'mm', rate_unit: 'mm/h' };

  it('counts bouncing tips once each and reports count, rate and total per interval', async () => {
    const { clock, ctx, line } = await started(rain, { initial: 1 });
    for (let i = 0; i < 10; i++) await tip(clock, line);
    clock.advance(60_000 - clock.mono());
    expect(ctx.samples).toEqual([
      { point: 'count', value: 2.794, quality: 'good' },
      { point: 'rate', value: 167.64, quality: 'good' },
      { point: 'total', value: 2.794, quality: 'good' },
    ]);
    expect(ctx.state.get(TOTAL_KEY)).toBe(10);
    await flush();
    clock.advance(60_000);
    expect(ctx.samples.slice(3).map((s) => s.value)).toEqual([0, 0, 2.794]);
    expect(ctx.health.snapshot().counters.pulses).toBe(10);
  });

  it('keeps the running total across a restart, including pulses after the last report', async () => {
    const state = new MemoryStateStore();
    const clock = new FakeClock();
    const a = await started(rain, { state, clock, initial: 1 });
    for (let i = 0; i < 4; i++) await tip(clock, a.line);
    clock.advance(60_000 - clock.mono()); // report: total 4
    await tip(clock, a.line); // after the report
    await a.driver.stop();
    expect(state.get(TOTAL_KEY)).toBe(5);

    const b = await started(rain, { state, clock, initial: 1 });
    for (let i = 0; i < 2; i++) await tip(clock, b.line);
    clock.advance(60_000);
    const total = b.ctx.samples.find((s) => s.point === 'total');
    expect(total?.value).toBe(1.9558); // 7 tips × 0.2794
    expect(state.get(TOTAL_KEY)).toBe(7);
  });

  it('counts rising edges when asked, and ignores spikes shorter than the debounce', async () => {
    const { clock, ctx, line } = await started({ ...rain, edge: 'rising', scale: 1 }, { initial: 0 });
    await line.drive(1);
    clock.advance(5);
    await line.drive(0); // 5 ms spike: noise
    clock.advance(50);
    await line.drive(1);
    clock.advance(50);
    await line.drive(0);
    clock.advance(60_000 - clock.mono());
    expect(ctx.samples.find((s) => s.point === 'count')?.value).toBe(1);
    expect(ctx.health.snapshot().counters.bounces_rejected).toBe(1);
  });

  it('reports a damaged stored total and starts again from zero', async () => {
    const state = new MemoryStateStore();
    state.set(TOTAL_KEY, 'lots');
    const { ctx } = await started(rain, { state });
    expect(ctx.health.snapshot().last_error).toMatch(/gpio device "dev" \(GPIO 17\): stored total_pulses is not a pulse count/);
  });
});

describe('gpio driver: output', () => {
  const relay = { pin: 18, mode: 'output', initial: 0, safe: 0, report: '30s', point: 'relay' };

  it('starts at the initial level, sets through gpio_set, and drives the safe level on stop', async () => {
    const { ctx, line, driver } = await started({ ...relay, initial: 1, safe: 0 });
    expect(line.opts).toMatchObject({ direction: 'out', initial: 1 });
    expect(ctx.samples).toEqual([{ point: 'relay', value: 1 }]);
    const set = driver.actions.gpio_set;
    expect(set).toBeDefined();
    await expect(set?.({ value: 'off' })).resolves.toEqual({ pin: 18, value: 0 });
    await expect(set?.({ value: true })).resolves.toEqual({ pin: 18, value: 1 });
    expect(ctx.samples.map((s) => s.value)).toEqual([1, 0, 1]);
    await driver.stop();
    expect(line.writes).toEqual([0, 1, 0]);
    expect(line.closed).toBe(true);
    await expect(set?.({ value: 1 })).rejects.toThrow(/gpio device "dev" \(GPIO 18\): not running/);
    await driver.stop(); // idempotent
  });

  it('rejects a value that is not a level, without touching the line', async () => {
    const { line, driver } = await started(relay);
    await expect(driver.actions.gpio_set?.({ value: 'maybe' })).rejects.toThrow(/gpio_set needs value 0 or 1/);
    expect(line.writes).toEqual([]);
  });

  it('reports a line moved by someone else on the heartbeat', async () => {
    const { clock, ctx, line } = await started(relay);
    line.level = 1;
    clock.advance(30_000);
    await flush();
    expect(ctx.samples.at(-1)).toEqual({ point: 'relay', value: 1 });
    expect(ctx.health.snapshot().last_error).toMatch(/line reads 1 but was set to 0/);
  });

  it('stop() after a failed start is safe', async () => {
    const port = new FakeGpioPort();
    port.failOpen = new Error('EBUSY');
    const driver = new GpioDriver(config(relay), () => port);
    await expect(driver.start(testContext())).rejects.toThrow(/^gpio device "dev" \(GPIO 18\): EBUSY$/);
    await expect(driver.stop()).resolves.toBeUndefined();
  });

  it('stop() during start releases the line the start opens afterwards', async () => {
    const port = new FakeGpioPort();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = { open: async (pin: number, o: Parameters<FakeGpioPort['open']>[1]) => (await gate, port.open(pin, o)) };
    const driver = new GpioDriver(config(relay), () => slow);
    const starting = driver.start(testContext({ clock: new FakeClock() }));
    await driver.stop();
    release();
    await starting;
    expect(port.line(18).closed).toBe(true);
    expect(port.line(18).writes).toEqual([]);
  });

  it('input and counter devices expose no actions', () => {
    expect(new GpioDriver(config({ pin: 4, mode: 'input' })).actions).toEqual({});
  });
});

describe('gpio definition', () => {
  it('claims its pin and declares its points', () => {
    const c = config({ pin: 17, mode: 'counter', unit: 'mm', rate_unit: 'mm/h' });
    expect(gpioDriver.claims?.(c)).toEqual(['gpio:17']);
    expect(gpioDriver.pointConfigs?.(c)).toEqual([
      { name: 'count', unit: 'mm' },
      { name: 'rate', unit: 'mm/h' },
      { name: 'total', unit: 'mm' },
    ]);
    expect(gpioDriver.pointConfigs?.(config({ pin: 4, mode: 'input', point: 'door' }))).toEqual([{ name: 'door' }]);
  });

  it('creating a driver does no I/O: the port is made and opened in start()', async () => {
    const port = new FakeGpioPort();
    let made = 0;
    const driver = new GpioDriver(config({ pin: 17, mode: 'input' }), () => (made++, port));
    expect([made, port.lines.size]).toEqual([0, 0]);
    await driver.start(testContext({ clock: new FakeClock() }));
    expect([made, port.lines.size]).toEqual([1, 1]);
    await driver.stop();
  });

  it('rejects keys that do not apply to the mode, and pins that do not exist', () => {
    const r = gpioDeviceSchema.safeParse({ id: 'x', driver: 'gpio', pin: 60, mode: 'input', scale: 2, initial: 1 });
    expect(r.success).toBe(false);
    const msgs = r.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];
    expect(msgs).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^pin: GPIO 60 does not exist/),
      ]),
    );
    const r2 = gpioDeviceSchema.safeParse({ id: 'x', driver: 'gpio', pin: 6, mode: 'input', scale: 2, initial: 1 });
    expect(r2.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([
      'scale: scale applies to mode counter, not input',
      'initial: initial applies to mode output, not input',
    ]);
  });
});

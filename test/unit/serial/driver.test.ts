import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/core/fake-clock.js';
import { SerialDriver } from '../../../src/drivers/serial/driver.js';
import { serialDeviceSchema, type SerialDeviceConfig } from '../../../src/drivers/serial/schema.js';
import { testContext, type TestContext } from '../../helpers/driver-context.js';
import { MockSerialBench, settle } from '../../helpers/mock-serial.js';
import { NMEA_STREAM, PMS5003_FRAMES, SDS011_FRAMES } from './fixtures.js';

const PORT = '/dev/serial/by-id/usb-Prolific_PL2303-if00-port0';
const config = (extra: Record<string, unknown> = {}): SerialDeviceConfig =>
  serialDeviceSchema.parse({ id: 'pm-1', driver: 'serial', port: PORT, protocol: 'pms5003', ...extra });

let running: { driver: SerialDriver; ctx: TestContext } | undefined;
afterEach(async () => {
  await running?.driver.stop();
  running = undefined;
});

async function start(cfg: SerialDeviceConfig, bench: MockSerialBench, clock = new FakeClock()) {
  const ctx = testContext({ device: cfg.id, clock });
  const driver = new SerialDriver(cfg, { ports: bench.ports });
  running = { driver, ctx };
  await driver.start(ctx);
  await settle();
  return { driver, ctx, clock };
}

describe('serial driver over SerialPortMock', () => {
  it('emits one batch per frame and reports decoder counters to health', async () => {
    const bench = new MockSerialBench();
    bench.plug(PORT);
    const { ctx } = await start(config(), bench);
    const [f1, f2] = PMS5003_FRAMES as [(typeof PMS5003_FRAMES)[0], (typeof PMS5003_FRAMES)[0]];
    bench.send(Uint8Array.from([0x00, 0x42, ...f1.bytes.subarray(0, 10)]));
    bench.send(Uint8Array.from([...f1.bytes.subarray(10), ...f2.bytes]));
    await ctx.waitForSamples(24);
    const values = Object.fromEntries(ctx.samples.slice(12).map((s) => [s.point, s.value]));
    expect(values).toEqual(f2.values);
    const snap = ctx.health.snapshot();
    expect(snap.state).toBe('ok');
    expect(snap.counters).toMatchObject({ frames_ok: 2, resyncs: 1, bytes_discarded: 2, opens: 1 });
  });

  it('a checksum failure degrades the device; the next good frame restores it', async () => {
    const bench = new MockSerialBench();
    bench.plug(PORT);
    const { ctx } = await start(config({ protocol: 'sds011' }), bench);
    const bad = (SDS011_FRAMES[0] as { bytes: Uint8Array }).bytes.slice();
    bad[8] = (bad[8] as number) ^ 0xff;
    bench.send(bad);
    await settle();
    expect(ctx.health.snapshot()).toMatchObject({ state: 'degraded', counters: { checksum_failures: 1 } });
    expect(ctx.health.snapshot().last_error).toContain(PORT);
    bench.send((SDS011_FRAMES[1] as { bytes: Uint8Array }).bytes);
    await ctx.waitForSamples(2);
    expect(ctx.samples).toEqual([{ point: 'pm2_5', value: 3.3 }, { point: 'pm10', value: 5.1 }]);
    expect(ctx.health.snapshot().state).toBe('ok');
  });

  it('unplug → down with the port in the reason; reopen with growing backoff; replug → ok, no restart', async () => {
    const bench = new MockSerialBench();
    bench.plug(PORT);
    const clock = new FakeClock({ random: () => 1 }); // no jitter: delays are exactly min·2ⁿ
    const { ctx, driver } = await start(config({ reopen: { min: '1s', max: '4s' } }), bench, clock);
    bench.send((PMS5003_FRAMES[0] as { bytes: Uint8Array }).bytes);
    await ctx.waitForSamples(12);

    bench.unplug(PORT);
    await settle();
    let snap = ctx.health.snapshot();
    expect(snap.state).toBe('down');
    expect(snap.reason).toContain('EIO');
    expect(snap.reason).toContain('reopening in 1s');
    expect(driver.connected).toBe(false);

    for (const expected of ['2s', '4s', '4s']) {
      clock.advance(4000);
      await settle();
      expect(ctx.health.snapshot().reason).toContain(PORT);
      expect(ctx.health.snapshot().reason).toContain(`reopening in ${expected}`);
    }
    expect(ctx.health.snapshot().counters).toMatchObject({ port_lost: 1, open_failures: 3, opens: 1 });

    bench.plug(PORT);
    clock.advance(4000);
    await settle();
    expect(driver.connected).toBe(true);
    expect(ctx.health.snapshot()).toMatchObject({ state: 'down', reason: `serial port ${PORT} reopened; waiting for a valid pms5003 frame` });
    bench.send((PMS5003_FRAMES[1] as { bytes: Uint8Array }).bytes);
    await ctx.waitForSamples(24);
    snap = ctx.health.snapshot();
    expect(snap.state).toBe('ok');
    expect(snap.counters.opens).toBe(2);
    expect(ctx.failures).toEqual([]);
  });

  it('a silent unplug (no error, node gone) is caught by the presence check', async () => {
    const bench = new MockSerialBench();
    bench.plug(PORT);
    const clock = new FakeClock();
    const { ctx } = await start(config(), bench, clock);
    bench.unplug(PORT, { silently: true });
    clock.advance(2000);
    await settle();
    expect(ctx.health.snapshot()).toMatchObject({ state: 'down' });
    expect(ctx.health.snapshot().reason).toContain('vanished');
  });

  it('silence: no byte for silence_timeout reopens the port and reports why', async () => {
    const bench = new MockSerialBench();
    bench.plug(PORT);
    const clock = new FakeClock();
    const { ctx } = await start(config({ silence_timeout: '10s' }), bench, clock);
    clock.advance(9000);
    await settle();
    expect(ctx.health.snapshot().state).toBe('ok');
    clock.advance(1000);
    await settle();
    expect(ctx.health.snapshot().reason).toMatch(/no data from serial port .* for 10s/);
    clock.advance(1500);
    await settle();
    expect(ctx.health.snapshot().counters.opens).toBe(2);
  });

  it('lines devices default to no silence timeout', async () => {
    const bench = new MockSerialBench();
    bench.plug(PORT);
    const clock = new FakeClock();
    const { ctx } = await start(config({ protocol: 'lines', columns: ['level'] }), bench, clock);
    clock.advance(3_600_000);
    await settle();
    expect(ctx.health.snapshot()).toMatchObject({ state: 'ok', counters: { opens: 1 } });
  });

  it('serialport closing twice after an unplug counts one loss', async () => {
    const bench = new MockSerialBench();
    bench.plug(PORT);
    const { ctx } = await start(config(), bench);
    const s = bench.current();
    bench.unplug(PORT);
    await settle();
    s?.emit('close', Object.assign(new Error('disconnected'), { disconnected: true }));
    await settle();
    expect(ctx.health.snapshot().counters.port_lost).toBe(1);
  });

  it('a port missing at start: start() resolves, the device is down until it appears', async () => {
    const bench = new MockSerialBench();
    const clock = new FakeClock();
    const { ctx, driver } = await start(config({ protocol: 'nmea' }), bench, clock);
    expect(ctx.health.snapshot().state).toBe('down');
    expect(ctx.health.snapshot().reason).toContain(`cannot open serial port ${PORT}`);
    bench.plug(PORT);
    clock.advance(2000);
    await settle();
    expect(driver.connected).toBe(true);
    bench.send(NMEA_STREAM);
    await ctx.waitForSamples(5);
    expect(ctx.health.snapshot().state).toBe('ok');
  });

  it('stop() releases the port and every timer, is idempotent, and nothing is emitted after it', async () => {
    const bench = new MockSerialBench();
    bench.plug(PORT);
    const clock = new FakeClock();
    const { ctx, driver } = await start(config(), bench, clock);
    await driver.stop();
    await driver.stop();
    expect(clock.pending()).toBe(0);
    expect(bench.current()?.isOpen).toBe(false);
    expect(() => bench.send((PMS5003_FRAMES[0] as { bytes: Uint8Array }).bytes)).toThrow();
    expect(ctx.samples).toEqual([]);
  });

  it('stop() during a reopen wait cancels it', async () => {
    const bench = new MockSerialBench();
    const clock = new FakeClock();
    const { driver } = await start(config(), bench, clock);
    expect(clock.pending()).toBe(1);
    await driver.stop();
    expect(clock.pending()).toBe(0);
    bench.plug(PORT);
    clock.advance(120_000);
    await settle();
    expect(bench.streams.filter((s) => s.isOpen)).toEqual([]);
  });
});

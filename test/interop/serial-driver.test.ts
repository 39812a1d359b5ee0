/**
 * The serial driver over a real pty pair (socat): frames written at one end are decoded
 * by the driver reading the other through serialport 13. Killing socat is an unplug; the
 * device goes `down` and comes back `ok` after socat starts again, with no restart of
 * the driver (no ctx.fail, same driver instance).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SerialDriver } from '../../src/drivers/serial/driver.js';
import { serialDeviceSchema } from '../../src/drivers/serial/schema.js';
import { encodePms5003 } from '../../src/drivers/serial/protocols/pms5003.js';
import { encodeNmea } from '../../src/drivers/serial/protocols/nmea.js';
import { testContext } from '../helpers/driver-context.js';
import { sensorOnPty, until } from './serial-pty.js';

const PM = { pm1_0_cf1: 11, pm2_5_cf1: 17, pm10_cf1: 21, pm1_0: 10, pm2_5: 15, pm10: 20, particles_0_3um: 1500, particles_0_5um: 420, particles_1_0um: 90, particles_2_5um: 9, particles_5_0um: 2, particles_10um: 1 };

describe('serial driver over a socat pty pair', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const f of cleanup.reverse()) await f();
    cleanup.length = 0;
  });

  it('decodes PMS5003 frames end to end; unplug → down; replug → ok, same driver', async () => {
    const { pair, sensor } = await sensorOnPty(cleanup);

    const config = serialDeviceSchema.parse({
      id: 'pm-1', driver: 'serial', port: pair.b, protocol: 'pms5003', reopen: { min: '100ms', max: '400ms' },
    });
    const ctx = testContext({ device: 'pm-1' });
    const driver = new SerialDriver(config, { presenceCheckMs: 200 });
    await driver.start(ctx);
    cleanup.push(() => driver.stop());
    await until(() => driver.connected, 5000, 'port open');

    // Garbage, then a frame split in two writes, then a whole one.
    const frame = encodePms5003(PM);
    sensor.write(Uint8Array.from([0x13, 0x42, 0x00]));
    sensor.write(frame.subarray(0, 11));
    await new Promise((r) => setTimeout(r, 30));
    sensor.write(frame.subarray(11));
    sensor.write(frame);
    const samples = await ctx.waitForSamples(24);
    expect(Object.fromEntries(samples.slice(0, 12).map((s) => [s.point, s.value]))).toEqual(PM);
    expect(ctx.health.snapshot()).toMatchObject({ state: 'ok', counters: { frames_ok: 2, resyncs: 1, bytes_discarded: 3, opens: 1 } });

    // Unplug.
    sensor.close();
    await pair.stop();
    await until(() => ctx.health.snapshot().state === 'down', 5000, 'device down after unplug');
    const down = ctx.health.snapshot();
    expect(down.reason).toContain(pair.b);
    expect(driver.connected).toBe(false);
    await new Promise((r) => setTimeout(r, 600)); // a few failed reopens while unplugged
    expect(ctx.health.snapshot().counters.open_failures ?? 0).toBeGreaterThan(0);

    // Replug: same paths, new ptys.
    await pair.start();
    sensor.open();
    await until(() => driver.connected, 5000, 'port reopened after replug');
    const before = ctx.samples.length;
    sensor.write(encodePms5003({ ...PM, pm2_5: 99 }));
    await ctx.waitForSamples(before + 12);
    expect(ctx.samples.slice(before).find((s) => s.point === 'pm2_5')?.value).toBe(99);
    const after = ctx.health.snapshot();
    expect(after.state).toBe('ok');
    expect(after.counters.opens).toBe(2);
    expect(after.counters.port_lost).toBe(1);
    expect(ctx.failures).toEqual([]);
  });

  it('NMEA at 9600 baud, fed like a receiver (one burst per second, split anywhere)', async () => {
    const { pair, sensor } = await sensorOnPty(cleanup);
    const config = serialDeviceSchema.parse({ id: 'gps', driver: 'serial', port: pair.b, protocol: 'nmea' });
    const ctx = testContext({ device: 'gps' });
    const driver = new SerialDriver(config);
    await driver.start(ctx);
    cleanup.push(() => driver.stop());
    await until(() => driver.connected, 5000, 'port open');

    const now = new Date();
    const hhmmss = `${String(now.getUTCHours()).padStart(2, '0')}${String(now.getUTCMinutes()).padStart(2, '0')}${String(now.getUTCSeconds()).padStart(2, '0')}.00`;
    const ddmmyy = `${String(now.getUTCDate()).padStart(2, '0')}${String(now.getUTCMonth() + 1).padStart(2, '0')}${String(now.getUTCFullYear() % 100).padStart(2, '0')}`;
    const burst =
      encodeNmea(`GNGGA,${hhmmss},2812.34567,N,11256.78901,E,1,09,0.90,61.2,M,-15.3,M,,`) +
      encodeNmea('GPGSV,3,1,11,03,03,111,00,04,15,270,00,06,01,010,00,13,06,292,00') +
      encodeNmea(`GNRMC,${hhmmss},A,2812.34567,N,11256.78901,E,5.0,90.0,${ddmmyy},,,A`);
    sensor.write(burst.slice(0, 50));
    await new Promise((r) => setTimeout(r, 20));
    sensor.write(burst.slice(50));
    await until(() => ctx.samples.some((s) => s.point === 'clock_offset_ms'), 5000, 'RMC decoded');
    const byPoint = Object.fromEntries(ctx.samples.map((s) => [s.point, s.value]));
    expect(byPoint).toMatchObject({ fix_quality: 1, satellites: 9, altitude: 61.2, fix_valid: true, course: 90 });
    expect(byPoint.speed as number).toBeCloseTo(9.26, 6);
    // The sentence was stamped this second and arrived within it: offset within (-2 s, +1 s).
    expect(Math.abs(byPoint.clock_offset_ms as number)).toBeLessThan(2000);
    expect(ctx.health.snapshot().counters).toMatchObject({ frames_ok: 3, checksum_failures: 0 });
  });
});

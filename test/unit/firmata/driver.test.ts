import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/core/fake-clock.js';
import { FirmataDriver, firmataDriver } from '../../../src/drivers/firmata/index.js';
import { johnnyFiveLink } from '../../../src/drivers/firmata/johnny-five-link.js';
import { firmataDeviceSchema, type FirmataDeviceConfig } from '../../../src/drivers/firmata/schema.js';
import { testContext } from '../../helpers/driver-context.js';
import { mockIo, purgeBoards, type MockHandle } from './fixtures/mock-io.js';

const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

function config(extra: Record<string, unknown> = {}): FirmataDeviceConfig {
  return firmataDeviceSchema.parse({
    id: 'ard',
    driver: 'firmata',
    port: '/dev/ttyACM0',
    poll: '1s',
    sampling_interval: '10ms',
    stale_after: '5s',
    points: [
      { name: 'light', pin: 'A1', scale: 0.1, unit: 'lx' },
      { name: 'temp', pin: 'A0', type: 'thermometer', controller: 'LM35' },
      { name: 'door', pin: 7, pull_up: true },
    ],
    ...extra,
  });
}

async function started(cfg = config(), ioOpts: { ready?: boolean } = {}) {
  const clock = new FakeClock();
  const handles: MockHandle[] = [];
  const driver = new FirmataDriver(
    cfg,
    johnnyFiveLink(() => {
      const h = mockIo(ioOpts);
      handles.push(h);
      return h;
    }),
  );
  const ctx = testContext({ clock, device: cfg.id });
  const start = driver.start(ctx);
  return { clock, driver, ctx, start, handles };
}

afterEach(() => purgeBoards());

describe('firmata driver (mock-firmata)', () => {
  it('samples analog, thermometer and digital points once per poll', async () => {
    const { clock, driver, ctx, start, handles } = await started();
    await start;
    const io = handles[0]?.io;
    if (!io) throw new Error('no io');
    expect(io.modes).toEqual(expect.arrayContaining([[1, 2], [0, 2], [7, 0x0b]]));
    io.emit('analog-read-1', 612);
    io.emit('analog-read-0', 31); // LM35: 31/1023 × 5 V = 151.5 mV → 15 °C
    io.emit('digital-read-7', 1);
    clock.advance(1000);
    expect(ctx.samples).toEqual([
      { point: 'light', value: 612 },
      { point: 'temp', value: 15 },
      { point: 'door', value: 1 },
    ]);
    io.emit('analog-read-1', 100);
    clock.advance(1000);
    expect(ctx.samples.slice(3, 4)).toEqual([{ point: 'light', value: 100 }]);
    expect(io.pings).toBeGreaterThan(0);
    await driver.stop();
    expect(handles[0]?.closed).toBe(true);
    expect(clock.pending()).toBe(0);
  });

  it('emits nothing for points the board has not reported yet', async () => {
    const { clock, ctx, start, handles } = await started();
    await start;
    handles[0]?.io.emit('digital-read-7', 0);
    clock.advance(1000);
    expect(ctx.samples).toEqual([{ point: 'door', value: 0 }]);
  });

  it('an unplug fails the driver (restart by the supervisor), naming device and port; stop still runs', async () => {
    const { clock, driver, ctx, start, handles } = await started();
    await start;
    handles[0]?.io.emit('close');
    expect(ctx.failures).toHaveLength(1);
    expect(String(ctx.failures[0])).toMatch(/firmata device "ard": firmata board on \/dev\/ttyACM0: the port closed — unplugged or reset\?/);
    expect(ctx.health.snapshot().state).toBe('down');
    handles[0]?.io.emit('disconnect'); // a second signal of the same unplug is not a second failure
    expect(ctx.failures).toHaveLength(1);
    clock.advance(10_000);
    expect(ctx.samples).toEqual([]);
    await driver.stop();
    expect(handles[0]?.closed).toBe(true);
  });

  it('a board that goes silent (no data, no answer to pings) fails after stale_after', async () => {
    const { clock, ctx, start, handles } = await started();
    await start;
    const io = handles[0]?.io;
    if (!io) throw new Error('no io');
    io.answering = false;
    for (let i = 0; i < 5; i++) {
      clock.advance(1000);
      await flush();
    }
    expect(ctx.failures).toEqual([]);
    clock.advance(1000);
    expect(String(ctx.failures[0])).toMatch(/firmata device "ard" on \/dev\/ttyACM0: no message from the board for 6000ms/);
  });

  it('an analog pin that stops reporting while the board still answers pings fails the driver', async () => {
    const { clock, ctx, start, handles } = await started(config({ points: [{ name: 'light', pin: 'A1' }] }));
    await start;
    const io = handles[0]?.io;
    for (let i = 0; i < 5; i++) {
      io?.emit('analog-read-1', 100 + i);
      clock.advance(1000);
      await flush();
    }
    expect(ctx.failures).toEqual([]);
    for (let i = 0; i < 6; i++) {
      clock.advance(1000);
      await flush();
    }
    expect(String(ctx.failures[0])).toMatch(/firmata device "ard" on \/dev\/ttyACM0: point "light" has not been reported for 6000ms/);
  });

  it('a board that announces its firmware again has rebooted: fail, so the restart sets it up again', async () => {
    const { ctx, start, handles } = await started();
    await start;
    handles[0]?.io.emit('queryfirmware');
    expect(String(ctx.failures[0])).toMatch(/firmata board on \/dev\/ttyACM0: the board reset \(it announced its firmware again\)$/);
  });

  it('a thermometer reports only when the board does (no johnny-five timer)', async () => {
    const { clock, ctx, start, handles } = await started(config({ points: [{ name: 't', pin: 'A0', type: 'thermometer', controller: 'TMP36' }] }));
    await start;
    clock.advance(1000);
    await new Promise((r) => setTimeout(r, 50));
    expect(ctx.samples).toEqual([]);
    handles[0]?.io.emit('analog-read-0', 153); // 748 mV → 24.8 °C, rounded by the TMP36 controller
    clock.advance(1000);
    expect(ctx.samples).toEqual([{ point: 't', value: 25 }]);
  });

  it('pings answered by the board keep a quiet (digital-only) board alive', async () => {
    const { clock, ctx, start } = await started(config({ points: [{ name: 'door', pin: 7 }] }));
    await start;
    for (let i = 0; i < 20; i++) {
      clock.advance(1000);
      await flush();
      await flush();
    }
    expect(ctx.failures).toEqual([]);
  });

  it('start rejects with a handshake hint when the board never answers, and releases the port', async () => {
    const { clock, start, handles } = await started(config({ connect_timeout: '15s' }), { ready: false });
    const outcome = start.then(() => 'resolved', (e: Error) => e.message);
    await flush();
    clock.advance(15_000);
    expect(await outcome).toMatch(/firmata board on \/dev\/ttyACM0: no Firmata handshake within 15000ms — is StandardFirmata flashed/);
    expect(handles[0]?.closed).toBe(true);
  });

  it('an I/O error during the handshake fails start, naming the port, and releases it', async () => {
    const { start, handles } = await started(config(), { ready: false });
    await flush();
    handles[0]?.io.emit('error', Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' }));
    await expect(start).rejects.toThrow(/firmata board on \/dev\/ttyACM0: the port failed during the handshake: EIO: i\/o error, read — unplugged or reset\?/);
    expect(handles[0]?.closed).toBe(true);
  });

  it('start rejects a pin the board does not have, and releases the port', async () => {
    const { start, handles, driver } = await started(config({ points: [{ name: 'x', pin: 'A9' }] }));
    await expect(start).rejects.toThrow(/firmata device "ard" on \/dev\/ttyACM0: firmata board on \/dev\/ttyACM0: A9 does not exist \(this board has A0–A5\)/);
    expect(handles[0]?.closed).toBe(true);
    await expect(driver.stop()).resolves.toBeUndefined();
  });

  it('stop() during the handshake closes the board once the handshake completes', async () => {
    const { driver, start, handles, clock } = await started();
    await driver.stop();
    await start;
    expect(handles[0]?.closed).toBe(true);
    expect(clock.pending()).toBe(0);
  });

  it('restarts cleanly after a failure (a new board session)', async () => {
    const { driver, ctx, start, handles, clock } = await started();
    await start;
    handles[0]?.io.emit('close');
    await driver.stop();
    purgeBoards();
    await driver.start(ctx);
    handles[1]?.io.emit('analog-read-1', 5);
    clock.advance(1000);
    expect(ctx.samples).toContainEqual({ point: 'light', value: 5 });
    await driver.stop();
  });
});

describe('firmata definition', () => {
  it('claims its serial port and gives thermometers a unit', () => {
    const c = config();
    expect(firmataDriver.claims?.(c)).toEqual(['serial:/dev/ttyACM0']);
    expect(firmataDriver.pointConfigs?.(c)).toEqual([
      { name: 'light', scale: 0.1, unit: 'lx' },
      { name: 'temp', unit: 'degC' },
      { name: 'door' },
    ]);
  });

  it('creating a driver opens nothing: the link is opened in start()', async () => {
    let opened = 0;
    const driver = new FirmataDriver(config(), (o) => (opened++, johnnyFiveLink(() => mockIo())(o)));
    expect(opened).toBe(0);
    await driver.start(testContext({ clock: new FakeClock() }));
    expect(opened).toBe(1);
    await driver.stop();
  });

  it('rejects points that do not fit their type', () => {
    const r = firmataDeviceSchema.safeParse({
      id: 'a',
      driver: 'firmata',
      port: '/dev/ttyACM0',
      points: [
        { name: 't', pin: 'A0', type: 'thermometer' },
        { name: 'd', pin: 'A1', type: 'digital' },
        { name: 'a', pin: 3, type: 'analog', pull_up: true },
        { name: 't', pin: 'A2' },
      ],
    });
    expect(r.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([
      'points.0.controller: a thermometer needs controller: one of LM35, LM335, TMP36, GROVE, TINKERKIT',
      'points.1.pin: a digital point needs a pin number like 7, got "A1"',
      'points.2.pin: an analog point needs an analog pin like "A0", got 3',
      'points.2.pull_up: pull_up applies to digital points only',
      'points.3.name: duplicate point name "t" (also points[0])',
    ]);
  });
});

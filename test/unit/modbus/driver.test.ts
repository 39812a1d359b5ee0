/**
 * The modbus driver end to end against in-process slaves: decoded values, shared
 * buses, a dead slave among live ones, exceptions attached to their points, health
 * counters and the modbus_write action.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/core/clock.js';
import { RefCountedResources } from '../../../src/core/resources.js';
import type { Sample } from '../../../src/core/reading.js';
import { ModbusBus } from '../../../src/drivers/modbus/bus.js';
import { encodeRegisters } from '../../../src/drivers/modbus/codec.js';
import { modbusDriver, type ModbusDriver } from '../../../src/drivers/modbus/index.js';
import { busKey } from '../../../src/drivers/modbus/open-bus.js';
import { modbusDeviceSchema, rtuBusSchema, tcpBusSchema, type ModbusBusConfig } from '../../../src/drivers/modbus/schema.js';
import { ModbusTcpServer } from '../../../src/drivers/modbus/server/tcp-server.js';
import { testContext, type TestContext } from '../../helpers/driver-context.js';
import { FakeRtuLink } from './fake-line.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const values = (samples: Sample[], point: string) => samples.filter((s) => s.point === point);

interface Running {
  driver: ModbusDriver;
  ctx: TestContext;
}

const running: Running[] = [];
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const r of running.splice(0)) {
    r.ctx.abort();
    await r.driver.stop();
  }
  for (const c of cleanups.splice(0)) await c();
});

async function startDevice(device: Record<string, unknown>, busName: string, bus: ModbusBusConfig, resources = new RefCountedResources()): Promise<Running> {
  const config = modbusDeviceSchema.parse({ driver: 'modbus', bus: busName, ...device });
  const driver = modbusDriver.create(config, { buses: { [busName]: bus as unknown as { type: string } } }) as ModbusDriver;
  const ctx = { ...testContext({ device: config.id }), resources } as TestContext;
  await driver.start(ctx);
  const r = { driver, ctx };
  running.push(r);
  return r;
}

async function tcpServer(): Promise<{ server: ModbusTcpServer; bus: ModbusBusConfig }> {
  const server = new ModbusTcpServer();
  const port = await server.start(0);
  cleanups.push(() => server.stop());
  return { server, bus: tcpBusSchema.parse({ type: 'modbus-tcp', host: '127.0.0.1', port, timeout: '100ms', reconnect: { min: '50ms', max: '200ms' } }) };
}

describe('modbus driver', () => {
  it('emits the decoded raw values of every point type', async () => {
    const { server, bus } = await tcpServer();
    const s = server.slave(1);
    s.setRegisters('input', 0, encodeRegisters(230.5, 'float32', 'CDAB'));
    s.setRegisters('input', 2, encodeRegisters(-12345678, 'int32'));
    s.setRegisters('holding', 10, encodeRegisters(4_000_000_000, 'uint32', 'DCBA'));
    s.setRegisters('holding', 12, encodeRegisters('PUMP-7', 'string', 'ABCD', 4));
    s.setRegisters('holding', 16, [0b1000_0000_0000_0100]);
    s.setRegisters('holding', 17, encodeRegisters(9_007_199_254_740_993n.toString(), 'uint64'));
    s.setRegisters('holding', 21, encodeRegisters(-0.000125, 'float64', 'BADC'));
    s.setBits('coil', 3, [true]);
    s.setBits('discrete', 0, [false, true]);
    const { ctx } = await startDevice(
      {
        id: 'plc-1',
        poll: '50ms',
        points: [
          { name: 'v', table: 'input', address: 0, type: 'float32', word_order: 'little', unit: 'V', scale: 10 },
          { name: 'i32', table: 'input', address: 2, type: 'int32' },
          { name: 'u32', table: 'holding', address: 10, type: 'uint32', order: 'little' },
          { name: 'tag', table: 'holding', address: 12, type: 'string', length: 4 },
          { name: 'alarm', table: 'holding', address: 16, bit: 2 },
          { name: 'high', table: 'holding', address: 16, bit: 15 },
          { name: 'low', table: 'holding', address: 16, bit: 0 },
          { name: 'big', table: 'holding', address: 17, type: 'uint64' },
          { name: 'f64', table: 'holding', address: 21, type: 'float64', order: 'BADC' },
          { name: 'run', table: 'coil', address: 3 },
          { name: 'door', table: 'discrete', address: 1 },
        ],
      },
      'plc',
      bus,
    );
    const samples = await ctx.waitForSamples(11);
    const first = Object.fromEntries(samples.slice(0, 11).map((x) => [x.point, x]));
    expect(first.v).toEqual({ point: 'v', value: 230.5 }); // raw: the pipeline applies scale
    expect(first.i32?.value).toBe(-12345678);
    expect(first.u32?.value).toBe(4_000_000_000);
    expect(first.tag?.value).toBe('PUMP-7');
    expect([first.alarm?.value, first.high?.value, first.low?.value]).toEqual([true, true, false]);
    expect(first.big).toEqual({ point: 'big', value: 9_007_199_254_740_992, quality: 'uncertain' });
    expect(first.f64?.value).toBe(-0.000125);
    expect(first.run?.value).toBe(true);
    expect(first.door?.value).toBe(true);
    // 11 points in 4 requests per poll: input 0-3, holding 10-24, coil 3, discrete 1.
    expect(ctx.health.snapshot().counters.requests).toBe(4);
  });

  it('three slaves on one RTU line, one dead: the other two keep their poll rate', async () => {
    const line = new FakeRtuLink();
    line.responder.slave(1).setRegisters('input', 0, [1, 1]);
    line.responder.slave(2).setRegisters('input', 0, [2, 2]);
    // unit 3 is configured but never answers (dead meter)
    const busCfg = rtuBusSchema.parse({ type: 'modbus-rtu', port: '/dev/fake-rtu', timeout: '60ms', retries: 1 });
    const resources = new RefCountedResources();
    resources.acquire(busKey('rs485-1'), () => new ModbusBus({ name: 'rs485-1', kind: 'rtu', link: line, clock: systemClock, timeoutMs: 60, retries: 1, interFrameMs: 2, reconnect: { min: 50, max: 200 } }));
    cleanups.push(() => resources.closeAll());
    const dev = (id: string, unit: number) => ({
      id,
      unit,
      poll: '100ms',
      backoff_max: '1s',
      points: [
        { name: 'a', table: 'input', address: 0, type: 'uint16' },
        { name: 'b', table: 'input', address: 1, type: 'uint16' },
        { name: 'c', table: 'input', address: 40, type: 'uint16' }, // a second request per poll
      ],
    });
    const devs = [await startDevice(dev('m1', 1), 'rs485-1', busCfg, resources), await startDevice(dev('m2', 2), 'rs485-1', busCfg, resources), await startDevice(dev('m3', 3), 'rs485-1', busCfg, resources)];
    const t0 = Date.now();
    await sleep(2000);
    const elapsed = Date.now() - t0;
    const expected = elapsed / 100;
    const [m1, m2, m3] = devs.map((d) => values(d.ctx.samples, 'a').length);
    // Without backoff the dead unit would cost 2×(60ms+resync) of every 100ms and the
    // live meters would get about half their polls.
    expect(m1).toBeGreaterThanOrEqual(Math.floor(expected * 0.85));
    expect(m2).toBeGreaterThanOrEqual(Math.floor(expected * 0.85));
    expect(m3).toBe(0);
    expect(devs[2]!.ctx.health.snapshot()).toMatchObject({ state: 'down' });
    expect(devs[2]!.ctx.health.snapshot().counters.backoffs).toBeGreaterThanOrEqual(3);
    expect(devs[0]!.ctx.health.snapshot()).toMatchObject({ state: 'ok', errors: 0 });
    // The dead unit was probed a handful of times, not 20.
    const probes = line.writes.filter((w) => w[0] === 3).length;
    expect(probes).toBeLessThanOrEqual(12);
  });

  it('an exception affects only its points: the merged read is split for good', async () => {
    const { server, bus } = await tcpServer();
    const s = server.slave(1);
    s.setRegisters('input', 0, encodeRegisters(1.5, 'float32'));
    s.setRegisters('input', 4, encodeRegisters(2.5, 'float32'));
    s.holes.input.add(2); // the manual lists it, the firmware does not implement it
    const { ctx, driver } = await startDevice(
      {
        id: 'meter',
        poll: '100ms',
        points: [
          { name: 'a', table: 'input', address: 0, type: 'float32' },
          { name: 'missing', table: 'input', address: 2, type: 'float32' },
          { name: 'b', table: 'input', address: 4, type: 'float32' },
        ],
      },
      'plc',
      bus,
    );
    await ctx.waitForSamples(6);
    await sleep(150);
    const last = ctx.samples.slice(-3);
    expect(last.find((x) => x.point === 'a')?.value).toBe(1.5);
    expect(last.find((x) => x.point === 'b')?.value).toBe(2.5);
    expect(last.find((x) => x.point === 'missing')).toEqual({ point: 'missing', value: null, quality: 'bad' });
    expect(driver.plan()[0]!.reads.map((r) => `${r.address}+${r.count}`)).toEqual(['0+2', '2+2', '4+2']);
    expect(ctx.health.snapshot().counters.exceptions).toBeGreaterThanOrEqual(2);
    expect(ctx.health.snapshot().state).toBe('ok');
  });

  it('modbus_write writes typed values, verifies them, and refuses what is not allowed', async () => {
    const { server, bus } = await tcpServer();
    const s = server.slave(1);
    const { driver } = await startDevice(
      {
        id: 'pump',
        poll: '1s',
        word_order: 'little',
        points: [
          { name: 'setpoint', table: 'holding', address: 100, type: 'float32', writable: true },
          { name: 'speed', table: 'holding', address: 102, type: 'uint16', writable: true },
          { name: 'start', table: 'coil', address: 5, writable: true },
          { name: 'level', table: 'holding', address: 0, type: 'int16' },
        ],
      },
      'plc',
      bus,
    );
    const write = driver.actions.modbus_write;
    await expect(write({ point: 'setpoint', value: 21.5 })).resolves.toEqual({ point: 'setpoint', value: 21.5, registers: [0, 0x41ac], verified: true });
    expect(Array.from(s.holding.subarray(100, 102))).toEqual(encodeRegisters(21.5, 'float32', 'CDAB'));
    await expect(write({ point: 'speed', value: 1450 })).resolves.toMatchObject({ verified: true });
    expect(s.holding[102]).toBe(1450);
    await expect(write({ point: 'start', value: true })).resolves.toEqual({ point: 'start', value: true, verified: true });
    expect(s.coil[5]).toBe(1);

    await expect(write({ point: 'level', value: 3 })).rejects.toThrow(/not writable — set writable: true/);
    await expect(write({ point: 'nope', value: 3 })).rejects.toThrow(/no point "nope"/);
    await expect(write({ point: 'speed', value: 70000 })).rejects.toThrow(/does not fit uint16/);
    await expect(write({ point: 'start', value: 'maybe' })).rejects.toThrow(/takes true or false/);
    await expect(write({ value: 1 })).rejects.toThrow(/point/);

    // A slave that acknowledges and then clamps the value is caught by the read-back.
    server.fault = (_unit, pdu) => {
      if (pdu[0] === 3) s.holding[102] = 1500;
      return undefined;
    };
    await expect(write({ point: 'speed', value: 1800 })).rejects.toThrow(/reads back 1500/);
    await expect(write({ point: 'speed', value: 1800, verify: false })).resolves.toMatchObject({ verified: false });
  });

  it('refuses an RTU device with an impossible unit id, naming the device and bus', () => {
    const cfg = modbusDeviceSchema.parse({ id: 'm', driver: 'modbus', bus: 'rs485-1', unit: 0, points: [{ name: 'a', table: 'input', address: 0 }] });
    const bus = rtuBusSchema.parse({ type: 'modbus-rtu', port: '/dev/ttyUSB0' });
    expect(() => modbusDriver.create(cfg, { buses: { 'rs485-1': bus } })).toThrow(/device m: unit 0 is not a valid RTU slave address \(1-247\) on bus rs485-1/);
  });

  it('a TCP device keeps working across a PLC restart without a gateway restart', async () => {
    const { server, bus } = await tcpServer();
    server.slave(1).setRegisters('holding', 0, [7]);
    const { ctx } = await startDevice({ id: 'plc', poll: '50ms', backoff_max: '200ms', points: [{ name: 'x', table: 'holding', address: 0 }] }, 'plc', bus);
    await ctx.waitForSamples(2);
    const port = server.port;
    await server.stop();
    await sleep(300);
    const before = ctx.samples.length;
    server.slave(1).setRegisters('holding', 0, [8]);
    await server.start(port);
    await ctx.waitForSamples(before + 2, 3000);
    expect(ctx.samples.at(-1)?.value).toBe(8);
    expect(ctx.failures).toEqual([]);
  });
});

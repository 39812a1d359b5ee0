/**
 * citygate's Modbus driver against another implementation: a pymodbus slave over TCP
 * and over RTU on a socat pty pair, cross-checked with mbpoll (an independent master).
 * The values our driver emits must equal what the other tools read and wrote.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RefCountedResources } from '../../src/core/resources.js';
import { systemClock } from '../../src/core/clock.js';
import { encodeRegisters } from '../../src/drivers/modbus/codec.js';
import { modbusDriver, type ModbusDriver } from '../../src/drivers/modbus/index.js';
import { openBus } from '../../src/drivers/modbus/open-bus.js';
import { modbusDeviceSchema, rtuBusSchema, tcpBusSchema, type ModbusBusConfig } from '../../src/drivers/modbus/schema.js';
import { ModbusTcpServer } from '../../src/drivers/modbus/server/tcp-server.js';
import { freePort, waitForPort } from '../helpers/net.js';
import { PtyPair } from '../helpers/socat.js';
import { testContext, type TestContext } from '../helpers/driver-context.js';
import { mbpoll, Pymodbus, type RegisterMap } from './modbus-peers.js';

const MAP: RegisterMap = {
  1: {
    hr: [0x4366, 0x8000, 0x0001, 0xe240, 0xffff, 0x5055, 0x4d50, 0x2d37, 0x0000, 0, 0xfffe, 0xffff, 0xffff, 0xffff],
    ir: [0x0000, 0x4348, 0x3ff0, 0, 0, 0],
    co: [1, 0, 1, 1],
    di: [0, 1],
  },
  2: { hr: [42] },
};

const POINTS = [
  { name: 'voltage', table: 'holding', address: 0, type: 'float32' },
  { name: 'count', table: 'holding', address: 2, type: 'uint32' },
  { name: 'minus_one', table: 'holding', address: 4, type: 'int16' },
  { name: 'tag', table: 'holding', address: 5, type: 'string', length: 4 },
  { name: 'delta', table: 'holding', address: 10, type: 'int64', order: 'CDAB' },
  { name: 'sign', table: 'holding', address: 4, bit: 15 },
  { name: 'flow', table: 'input', address: 0, type: 'float32', word_order: 'little' },
  { name: 'one', table: 'input', address: 2, type: 'float64' },
  { name: 'run', table: 'coil', address: 0 },
  { name: 'stop', table: 'coil', address: 1 },
  { name: 'door', table: 'discrete', address: 1 },
  { name: 'setpoint', table: 'holding', address: 30, type: 'float32', writable: true },
  { name: 'enable', table: 'coil', address: 10, writable: true },
];

const EXPECTED = { voltage: 230.5, count: 123456, minus_one: -1, tag: 'PUMP-7', delta: -2, sign: true, flow: 200, one: 1, run: true, stop: false, door: true, setpoint: 0, enable: false };

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup.length = 0;
});

async function runDevice(bus: ModbusBusConfig, unit = 1): Promise<{ driver: ModbusDriver; ctx: TestContext }> {
  const config = modbusDeviceSchema.parse({ id: 'peer', driver: 'modbus', bus: 'b', unit, poll: '200ms', points: POINTS });
  const driver = modbusDriver.create(config, { buses: { b: bus as unknown as { type: string } } }) as ModbusDriver;
  const ctx = { ...testContext({ device: 'peer' }), resources: new RefCountedResources() } as TestContext;
  await driver.start(ctx);
  cleanup.push(async () => {
    ctx.abort();
    await driver.stop();
  });
  return { driver, ctx };
}

function firstValues(ctx: TestContext): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const s of ctx.samples) if (!(s.point in out)) out[s.point] = s.value;
  return out;
}

describe('Modbus TCP against pymodbus', () => {
  it('reads every type as pymodbus serves it, writes that mbpoll reads back, and agrees with mbpoll register by register', async () => {
    const port = await freePort();
    const py = new Pymodbus();
    await py.start(['tcp', String(port)], MAP);
    cleanup.push(() => py.stop());
    await waitForPort(port);
    const bus = tcpBusSchema.parse({ type: 'modbus-tcp', host: '127.0.0.1', port, timeout: '1s' });
    const { ctx, driver } = await runDevice(bus);
    await ctx.waitForSamples(POINTS.length, 10_000);
    expect(firstValues(ctx)).toEqual(EXPECTED);

    // Cross-check: mbpoll reads the same registers, and decodes the float the same way.
    const direct = openBus('x', bus, systemClock);
    cleanup.push(() => direct.close());
    const raw = await direct.request({ unit: 1, request: { kind: 'read', table: 'holding', address: 0, count: 9 } });
    expect(await mbpoll(['-m', 'tcp', '-p', String(port), '-a', '1', '-t', '4:hex', '-r', '0', '-c', '9', '127.0.0.1'])).toEqual(raw.data);
    expect(await mbpoll(['-m', 'tcp', '-p', String(port), '-a', '1', '-t', '4:float', '-B', '-r', '0', '-c', '1', '127.0.0.1'])).toEqual([230.5]);

    // Writes through our driver, verified by us and read back by mbpoll.
    await expect(driver.actions.modbus_write({ point: 'setpoint', value: 21.25 })).resolves.toMatchObject({ verified: true });
    await expect(driver.actions.modbus_write({ point: 'enable', value: true })).resolves.toMatchObject({ verified: true });
    expect(await mbpoll(['-m', 'tcp', '-p', String(port), '-a', '1', '-t', '4:float', '-B', '-r', '30', '-c', '1', '127.0.0.1'])).toEqual([21.25]);
    expect(await mbpoll(['-m', 'tcp', '-p', String(port), '-a', '1', '-t', '0', '-r', '10', '-c', '1', '127.0.0.1'])).toEqual([1]);
  });

  it('mbpoll reads our in-process TCP slave like any other (our test peer speaks real Modbus)', async () => {
    const server = new ModbusTcpServer();
    server.slave(3).setRegisters('input', 7, encodeRegisters(-42.75, 'float32'));
    server.slave(3).setBits('coil', 0, [true, false, true]);
    const port = await server.start(0);
    cleanup.push(() => server.stop());
    expect(await mbpoll(['-m', 'tcp', '-p', String(port), '-a', '3', '-t', '3:float', '-B', '-r', '7', '-c', '1', '127.0.0.1'])).toEqual([-42.75]);
    expect(await mbpoll(['-m', 'tcp', '-p', String(port), '-a', '3', '-t', '0', '-r', '0', '-c', '3', '127.0.0.1'])).toEqual([1, 0, 1]);
  });
});

describe('Modbus RTU against pymodbus over a socat pty pair', () => {
  it('reads every type through serialport and a pty, and mbpoll agrees', async () => {
    const pair = new PtyPair();
    await pair.start();
    cleanup.push(() => pair.stop());
    const py = new Pymodbus();
    await py.start(['rtu', pair.b, '9600'], MAP);
    cleanup.push(() => py.stop());
    const bus = rtuBusSchema.parse({ type: 'modbus-rtu', port: pair.a, baud: 9600, timeout: '1s' });
    const { ctx, driver } = await runDevice(bus);
    await ctx.waitForSamples(POINTS.length, 15_000);
    expect(firstValues(ctx)).toEqual(EXPECTED);
    await expect(driver.actions.modbus_write({ point: 'setpoint', value: -3.5 })).resolves.toMatchObject({ verified: true });
    ctx.abort();
    await driver.stop(); // frees pty a for mbpoll

    expect(await mbpoll(['-m', 'rtu', '-b', '9600', '-P', 'none', '-a', '1', '-t', '4:float', '-B', '-r', '30', '-c', '1', '-o', '2', pair.a])).toEqual([-3.5]);
    expect(await mbpoll(['-m', 'rtu', '-b', '9600', '-P', 'none', '-a', '1', '-t', '3:float', '-r', '0', '-c', '1', '-o', '2', pair.a])).toEqual([200]);
  });
});

/**
 * The bus layer against an in-process Modbus TCP server with scripted faults: every
 * fault is followed by a good exchange, proving the bus recovered on its own.
 */
import { getEventListeners } from 'node:events';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/core/clock.js';
import type { ModbusBus } from '../../../src/drivers/modbus/bus.js';
import { ModbusExceptionError, ModbusFrameError, ModbusLinkError, ModbusTimeoutError } from '../../../src/drivers/modbus/errors.js';
import { openBus } from '../../../src/drivers/modbus/open-bus.js';
import { tcpBusSchema } from '../../../src/drivers/modbus/schema.js';
import { ModbusTcpServer } from '../../../src/drivers/modbus/server/tcp-server.js';

const read = (unit: number, address = 0, count = 2) => ({ unit, request: { kind: 'read', table: 'holding', address, count } as const });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Modbus TCP bus', () => {
  let server: ModbusTcpServer;
  let bus: ModbusBus;

  beforeEach(async () => {
    server = new ModbusTcpServer();
    server.slave(1).setRegisters('holding', 0, [0x4366, 0x8000, 7]);
    server.slave(2).setRegisters('holding', 0, [2, 2]);
    const port = await server.start(0);
    const cfg = tcpBusSchema.parse({ type: 'modbus-tcp', host: '127.0.0.1', port, timeout: '150ms', retries: 0, reconnect: { min: '50ms', max: '200ms' } });
    bus = openBus('plc', cfg, systemClock);
  });

  afterEach(async () => {
    await bus.close();
    await server.stop();
  });

  it('reads every table and writes registers and coils', async () => {
    server.slave(1).setRegisters('input', 5, [42]);
    server.slave(1).setBits('discrete', 3, [true, false, true]);
    expect((await bus.request(read(1))).data).toEqual([0x4366, 0x8000]);
    expect((await bus.request({ unit: 1, request: { kind: 'read', table: 'input', address: 5, count: 1 } })).data).toEqual([42]);
    expect((await bus.request({ unit: 1, request: { kind: 'read', table: 'discrete', address: 3, count: 3 } })).data).toEqual([true, false, true]);
    await bus.request({ unit: 1, request: { kind: 'write-registers', address: 10, values: [1, 2] } });
    await bus.request({ unit: 1, request: { kind: 'write-coil', address: 4, value: true } });
    expect(Array.from(server.slave(1).holding.subarray(10, 12))).toEqual([1, 2]);
    expect(server.slave(1).coil[4]).toBe(1);
    expect(bus.snapshot()).toMatchObject({ state: 'ok', requests: 5, responses: 5, timeouts: 0 });
  });

  it('silent slave: times out, and the next unit still answers', async () => {
    server.fault = (unit) => (unit === 2 ? { kind: 'silent' } : undefined);
    await expect(bus.request(read(2))).rejects.toBeInstanceOf(ModbusTimeoutError);
    expect((await bus.request(read(1))).data).toEqual([0x4366, 0x8000]);
    expect(bus.snapshot()).toMatchObject({ timeouts: 1, state: 'degraded' });
  });

  it('slow slave: its late answer is recognised by transaction id and dropped', async () => {
    server.fault = (unit) => (unit === 2 ? { kind: 'delay', ms: 250 } : undefined);
    await expect(bus.request(read(2))).rejects.toBeInstanceOf(ModbusTimeoutError);
    await sleep(150); // the late answer arrives now
    expect((await bus.request(read(1))).data).toEqual([0x4366, 0x8000]);
    expect(bus.snapshot()).toMatchObject({ stale_responses: 1 });
  });

  it('garbage: a frame error, the connection is replaced, the next read works', async () => {
    let n = 0;
    server.fault = () => (n++ === 0 ? { kind: 'garbage' } : undefined);
    await expect(bus.request(read(1))).rejects.toBeInstanceOf(ModbusFrameError);
    expect((await bus.request(read(1))).data).toEqual([0x4366, 0x8000]);
    expect(bus.snapshot()).toMatchObject({ framing_errors: 1, reconnects: 1 });
  });

  it('truncated frame: reported as such, then a clean connection', async () => {
    let n = 0;
    server.fault = () => (n++ === 0 ? { kind: 'truncate', keep: 9 } : undefined);
    const err = await bus.request(read(1)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModbusFrameError);
    expect((err as ModbusFrameError).fault).toBe('truncated');
    expect((await bus.request(read(1))).data).toEqual([0x4366, 0x8000]);
  });

  it('exceptions reach the caller with their code and are not retried', async () => {
    server.slave(1).holes.holding.add(100);
    const before = server.slave(1).requests;
    const err = await bus.request({ ...read(1, 99, 3), retries: 3 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModbusExceptionError);
    expect((err as ModbusExceptionError).code).toBe(2);
    expect(server.slave(1).requests - before).toBe(1);
    expect((await bus.request(read(1))).data).toEqual([0x4366, 0x8000]);
    expect(bus.snapshot()).toMatchObject({ exceptions: 1, state: 'ok' });
  });

  it('retries a lost answer', async () => {
    let n = 0;
    server.fault = () => (n++ === 0 ? { kind: 'silent' } : undefined);
    expect((await bus.request({ ...read(1), retries: 1 })).data).toEqual([0x4366, 0x8000]);
    expect(bus.snapshot()).toMatchObject({ retries: 1, timeouts: 1 });
  });

  it('server restart (PLC power cycle): requests fail fast while down, then it reconnects by itself', async () => {
    expect((await bus.request(read(1))).data).toEqual([0x4366, 0x8000]);
    const port = server.port;
    await server.stop();
    await expect(bus.request(read(1))).rejects.toBeInstanceOf(ModbusLinkError);
    const t0 = Date.now();
    await expect(bus.request(read(1))).rejects.toBeInstanceOf(ModbusLinkError);
    expect(Date.now() - t0).toBeLessThan(100); // fails fast, nothing piles up
    expect(bus.snapshot()).toMatchObject({ state: 'down', link: 'closed' });
    await server.start(port);
    const end = Date.now() + 3000;
    let data: unknown;
    while (Date.now() < end) {
      try {
        data = (await bus.request(read(1))).data;
        break;
      } catch {
        await sleep(30);
      }
    }
    expect(data).toEqual([0x4366, 0x8000]);
    expect(bus.snapshot()).toMatchObject({ link: 'open', reconnects: 1 });
  });

  it('three timeouts in a row replace a half-open connection', async () => {
    server.fault = () => ({ kind: 'silent' });
    for (let i = 0; i < 3; i++) await expect(bus.request(read(1))).rejects.toBeInstanceOf(ModbusTimeoutError);
    server.fault = undefined;
    expect((await bus.request(read(1))).data).toEqual([0x4366, 0x8000]);
    expect(bus.snapshot()).toMatchObject({ reconnects: 1 });
  });

  it('runs one request at a time, most overdue first', async () => {
    const order: number[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    server.fault = (_unit, pdu) => {
      order.push(pdu.readUInt16BE(1));
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      setTimeout(() => inFlight--, 5);
      return { kind: 'delay', ms: 5 };
    };
    const first = bus.request({ ...read(1), priority: 0 });
    const all = [bus.request({ ...read(2, 3), priority: 30 }), bus.request({ ...read(1, 2), priority: 20 }), bus.request({ ...read(2, 1), priority: 10 })];
    await Promise.all([first, ...all]);
    expect(order).toEqual([0, 1, 2, 3]); // FIFO would be 0, 3, 2, 1
    expect(maxInFlight).toBe(1);
  });

  it('keeps no abort listener per request on a long-lived device signal', async () => {
    const ac = new AbortController();
    for (let i = 0; i < 50; i++) await bus.request({ ...read(1), signal: ac.signal });
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
  });

  it('a request still queued when its device stops is rejected with the reason', async () => {
    server.fault = () => ({ kind: 'delay', ms: 50 });
    const ac = new AbortController();
    const first = bus.request(read(1));
    const queued = bus.request({ ...read(1), signal: ac.signal });
    ac.abort(new Error('device stopped'));
    await expect(queued).rejects.toThrow('device stopped');
    await first;
  });

  it('rejects queued requests on close', async () => {
    server.fault = () => ({ kind: 'delay', ms: 50 });
    const a = bus.request(read(1));
    const b = bus.request(read(1));
    await bus.close();
    await expect(b).rejects.toBeInstanceOf(ModbusLinkError);
    await expect(a).rejects.toBeInstanceOf(ModbusLinkError);
  });
});

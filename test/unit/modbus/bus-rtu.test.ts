/**
 * The bus layer on an RTU line (in-process fake line + slave responder): garbage,
 * truncated frames, CRC errors, noise, slow slaves and unplugs are each followed by
 * a good exchange, proving the resync. This is exactly where jsmodbus 5 stays
 * desynchronised for good (node-modbus #362), see README "Why our own framing".
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/core/clock.js';
import { ModbusBus } from '../../../src/drivers/modbus/bus.js';
import { ModbusFrameError, ModbusLinkError, ModbusTimeoutError } from '../../../src/drivers/modbus/errors.js';
import type { Fault } from '../../../src/drivers/modbus/server/slave.js';
import { FakeRtuLink } from './fake-line.js';

const read = (unit: number, address = 0, count = 2) => ({ unit, request: { kind: 'read', table: 'input', address, count } as const });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Modbus RTU bus', () => {
  let line: FakeRtuLink;
  let bus: ModbusBus;

  beforeEach(() => {
    line = new FakeRtuLink();
    line.responder.slave(1).setRegisters('input', 0, [0x4366, 0x8000]);
    line.responder.slave(2).setRegisters('input', 0, [0x0002, 0x0003]);
    bus = new ModbusBus({ name: 'rs485-1', kind: 'rtu', link: line, clock: systemClock, timeoutMs: 80, retries: 0, interFrameMs: 2, reconnect: { min: 30, max: 100 } });
  });

  afterEach(async () => {
    line.responder.stop();
    await bus.close();
  });

  /** Script one fault for the first request only. */
  const once = (f: Fault): void => {
    let n = 0;
    line.responder.fault = () => (n++ === 0 ? f : undefined);
  };

  it('reads through a line that delivers 3 bytes at a time', async () => {
    expect((await bus.request(read(1))).data).toEqual([0x4366, 0x8000]);
    expect((await bus.request(read(2))).data).toEqual([2, 3]);
  });

  it('garbage frame: counted as a framing error, then the next request reads cleanly', async () => {
    once({ kind: 'garbage' });
    const err = await bus.request(read(1)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModbusFrameError);
    expect((err as ModbusFrameError).fault).toBe('garbage');
    expect((await bus.request(read(1))).data).toEqual([0x4366, 0x8000]);
    expect(bus.snapshot()).toMatchObject({ framing_errors: 1, resyncs: 1 });
  });

  it('truncated frame: reported as truncated, then the next request reads cleanly', async () => {
    once({ kind: 'truncate', keep: 5 });
    const err = await bus.request(read(1)).catch((e: unknown) => e);
    expect((err as ModbusFrameError).fault).toBe('truncated');
    expect((await bus.request(read(1))).data).toEqual([0x4366, 0x8000]);
  });

  it('CRC error: fails at once (no wait for the timeout), retried when retries allow', async () => {
    once({ kind: 'bad-crc' });
    const t0 = Date.now();
    const err = await bus.request(read(1)).catch((e: unknown) => e);
    expect((err as ModbusFrameError).fault).toBe('crc');
    expect(Date.now() - t0).toBeLessThan(80);
    once({ kind: 'bad-crc' });
    expect((await bus.request({ ...read(1), retries: 1 })).data).toEqual([0x4366, 0x8000]);
    expect(bus.snapshot()).toMatchObject({ crc_errors: 2, retries: 1 });
  });

  it('noise before the answer is skipped without an error', async () => {
    once({ kind: 'noise-prefix', bytes: Buffer.from([0x00, 0xff, 0x01]) });
    expect((await bus.request(read(1))).data).toEqual([0x4366, 0x8000]);
    expect(bus.snapshot()).toMatchObject({ noise_bytes: 3, framing_errors: 0 });
  });

  it('a slow slave answering after the timeout does not poison the next exchange', async () => {
    line.responder.fault = (unit) => (unit === 2 ? { kind: 'delay', ms: 120 } : undefined);
    await expect(bus.request(read(2))).rejects.toBeInstanceOf(ModbusTimeoutError);
    await sleep(60); // the late answer lands between exchanges
    for (let i = 0; i < 5; i++) expect((await bus.request(read(1))).data).toEqual([0x4366, 0x8000]);
    expect(bus.snapshot()).toMatchObject({ timeouts: 1 });
  });

  it('a silent slave times out; its neighbour answers right after', async () => {
    await expect(bus.request(read(9))).rejects.toBeInstanceOf(ModbusTimeoutError);
    expect((await bus.request(read(2))).data).toEqual([2, 3]);
  });

  it('unplug: requests fail fast with the port name, and it reopens after a replug', async () => {
    expect((await bus.request(read(1))).data).toEqual([0x4366, 0x8000]);
    line.unplug();
    line.failOpen = new Error('/dev/fake-rtu does not exist — is the USB/RS-485 adapter plugged in?');
    const err = await bus.request(read(1)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModbusLinkError);
    expect(String(err)).toMatch(/fake-rtu/);
    expect(bus.snapshot()).toMatchObject({ state: 'down' });
    line.failOpen = undefined;
    await sleep(120);
    expect((await bus.request(read(1))).data).toEqual([0x4366, 0x8000]);
    expect(line.opens).toBe(2);
  });
});

/**
 * Modbus RTU over the serial port layer (the real NodeSerialPorts adapter on serialport's
 * mock binding): open errors name the port and what to do, bytes flow both ways through
 * the bus, and a lost port is reported once and reopened by the bus.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SerialPortMock } from 'serialport';
import { systemClock } from '../../../src/core/clock.js';
import { ModbusBus } from '../../../src/drivers/modbus/bus.js';
import { SerialLink } from '../../../src/drivers/modbus/serial-link.js';
import { RtuResponder } from '../../../src/drivers/modbus/server/rtu-responder.js';
import { MockSerialBench, settle } from '../../helpers/mock-serial.js';

const settings = { path: '/dev/ttyMOCK0', baudRate: 9600, parity: 'none' as const, dataBits: 8 as const, stopBits: 1 as const };

interface MockBindingPort {
  emitData(d: Buffer): void;
  write(b: Buffer): Promise<void>;
}

/** Put an RTU slave behind the open mock port: whatever the bus writes is answered. */
function attachSlave(bench: MockSerialBench): RtuResponder {
  const binding = (bench.current() as unknown as { port: MockBindingPort }).port;
  const responder = new RtuResponder((b) => binding.emitData(b));
  const write = binding.write.bind(binding);
  binding.write = async (b: Buffer) => {
    await write(b);
    setImmediate(() => responder.receive(b));
  };
  return responder;
}

const read = (bus: ModbusBus, count: number) => bus.request({ unit: 1, request: { kind: 'read', table: 'holding', address: 0, count } });

describe('SerialLink (serial port layer over SerialPortMock)', () => {
  afterEach(() => SerialPortMock.binding.reset());

  it('explains a missing device node', async () => {
    const bench = new MockSerialBench();
    const link = new SerialLink(settings, bench.ports);
    await expect(link.open({ data: () => undefined, closed: () => undefined })).rejects.toThrow(
      /cannot open serial port \/dev\/ttyMOCK0: the port does not exist: is the adapter plugged in\?/,
    );
  });

  it('carries RTU exchanges, reports a lost port once, and the bus reopens it', async () => {
    const bench = new MockSerialBench();
    bench.plug(settings.path);
    const link = new SerialLink(settings, bench.ports);
    const bus = new ModbusBus({ name: 'rs485-1', kind: 'rtu', link, clock: systemClock, timeoutMs: 200, retries: 0, interFrameMs: 4, reconnect: { min: 10, max: 10 } });

    // The first request opens the port; nothing answers yet, so it times out.
    await expect(read(bus, 1)).rejects.toThrow(/did not answer/);
    attachSlave(bench).slave(1).setRegisters('holding', 0, [1234, 5678]);
    expect((await read(bus, 2)).data).toEqual([1234, 5678]);
    expect(link.isOpen).toBe(true);

    // Unplug: serialport reports the loss (and may close twice); the bus counts one.
    bench.unplug(settings.path);
    bench.current()?.emit('close', new Error('second close'));
    await settle();
    expect(bus.snapshot()).toMatchObject({ link: 'closed', link_errors: 1 });
    await expect(read(bus, 1)).rejects.toThrow(/ttyMOCK0/);

    // Replug: after the backoff the bus opens a fresh connection through the same link.
    bench.plug(settings.path);
    await new Promise((r) => setTimeout(r, 20));
    await expect(read(bus, 1)).rejects.toThrow(/did not answer/); // a new port, no slave yet
    attachSlave(bench).slave(1).setRegisters('holding', 0, [42]);
    expect((await read(bus, 1)).data).toEqual([42]);
    // a fresh connection (failed attempts while unplugged may have come in between)
    expect(bench.streams.length).toBeGreaterThanOrEqual(2);
    expect(bench.streams.filter((st) => st.isOpen)).toEqual([bench.current()]);
    await bus.close();
    expect(link.isOpen).toBe(false);
    await link.close(); // idempotent
  });
});

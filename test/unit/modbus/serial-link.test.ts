/**
 * The serial adapter over serialport's own mock binding: open errors name the port
 * and what to do, bytes flow both ways through the bus, and a closed port is reported.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SerialPortMock } from 'serialport';
import { systemClock } from '../../../src/core/clock.js';
import { ModbusBus } from '../../../src/drivers/modbus/bus.js';
import { SerialLink, type SerialFactory, type SerialPortLike } from '../../../src/drivers/modbus/serial-link.js';
import { RtuResponder } from '../../../src/drivers/modbus/server/rtu-responder.js';

const settings = { path: '/dev/ttyMOCK0', baudRate: 9600, parity: 'none' as const, dataBits: 8 as const, stopBits: 1 as const };

interface MockBindingPort {
  emitData(d: Buffer): void;
  write(b: Buffer): Promise<void>;
}

describe('SerialLink (SerialPortMock)', () => {
  afterEach(() => SerialPortMock.binding.reset());

  it('explains a missing device node', async () => {
    const link = new SerialLink(settings, (s) => new SerialPortMock(s) as unknown as SerialPortLike);
    await expect(link.open({ data: () => undefined, closed: () => undefined })).rejects.toThrow(/ttyMOCK0 does not exist — is the USB\/RS-485 adapter plugged in/);
  });

  it('carries RTU exchanges, and reports a closed port once', async () => {
    SerialPortMock.binding.createPort(settings.path, { echo: false, record: true });
    let mock: SerialPortMock | undefined;
    const factory: SerialFactory = (s) => (mock = new SerialPortMock(s)) as unknown as SerialPortLike;
    const link = new SerialLink(settings, factory);
    const bus = new ModbusBus({ name: 'rs485-1', kind: 'rtu', link, clock: systemClock, timeoutMs: 200, retries: 0, interFrameMs: 4, reconnect: { min: 1000, max: 1000 } });

    // Put a slave behind the mock binding: whatever the bus writes is answered.
    const first = bus.request({ unit: 1, request: { kind: 'read', table: 'holding', address: 0, count: 1 } });
    await new Promise((r) => setTimeout(r, 20));
    const binding = (mock as unknown as { port: MockBindingPort }).port;
    const responder = new RtuResponder((b) => binding.emitData(b));
    responder.slave(1).setRegisters('holding', 0, [1234, 5678]);
    const write = binding.write.bind(binding);
    binding.write = async (b: Buffer) => {
      await write(b);
      setImmediate(() => responder.receive(b));
    };
    // The first request was written before the slave existed: it times out.
    await expect(first).rejects.toThrow(/did not answer/);
    expect((await bus.request({ unit: 1, request: { kind: 'read', table: 'holding', address: 0, count: 2 } })).data).toEqual([1234, 5678]);
    expect(link.isOpen).toBe(true);

    mock?.close();
    await new Promise((r) => setTimeout(r, 20));
    expect(bus.snapshot()).toMatchObject({ link: 'closed', link_errors: 1 });
    await bus.close();
  });
});

import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { explainOpenError } from '../../../src/ports/serial/open-errors.js';
import { listPorts } from '../../../src/ports/serial/list.js';
import { MockSerialBench, settle } from '../../helpers/mock-serial.js';

const SETTINGS = { baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 } as const;

describe('NodeSerialPorts over SerialPortMock', () => {
  it('opens, delivers data, writes, and closes idempotently', async () => {
    const bench = new MockSerialBench();
    bench.plug('/dev/ttyUSB0');
    const conn = await bench.ports.open({ path: '/dev/ttyUSB0', ...SETTINGS });
    const got: Buffer[] = [];
    const closes: (Error | undefined)[] = [];
    conn.onData((b) => got.push(b));
    conn.onClose((e) => closes.push(e));
    bench.send(Uint8Array.from([1, 2, 3]));
    await settle();
    expect(Buffer.concat(got)).toEqual(Buffer.from([1, 2, 3]));
    await conn.write(Uint8Array.from([9]));
    expect(bench.current()?.port?.lastWrite).toEqual(Buffer.from([9]));
    await Promise.all([conn.close(), conn.close()]);
    await conn.close();
    expect(closes).toEqual([undefined]);
    expect(conn.isOpen).toBe(false);
    await expect(conn.write(Uint8Array.from([1]))).rejects.toThrow('serial port /dev/ttyUSB0 is not open');
  });

  it('reports an unplug once, with the error, and close() afterwards is harmless', async () => {
    const bench = new MockSerialBench();
    bench.plug('/dev/ttyUSB0');
    const conn = await bench.ports.open({ path: '/dev/ttyUSB0', ...SETTINGS });
    const closes: (Error | undefined)[] = [];
    conn.onClose((e) => closes.push(e));
    const stream = bench.current();
    bench.unplug('/dev/ttyUSB0');
    await settle();
    stream?.emit('close', new Error('second close'));
    await conn.close();
    expect(closes).toHaveLength(1);
    expect(closes[0]?.message).toContain('EIO');
  });

  it('open failures name the port and say what to try', async () => {
    const bench = new MockSerialBench();
    await expect(bench.ports.open({ path: '/dev/ttyUSB7', ...SETTINGS })).rejects.toThrow(/cannot open serial port \/dev\/ttyUSB7/);
    const e = (code: string, message: string) => explainOpenError('/dev/ttyAMA0', Object.assign(new Error(message), { code }));
    expect(e('ENOENT', 'Error: No such file or directory, cannot open /dev/ttyAMA0').message).toContain('is the adapter plugged in?');
    expect(e('EACCES', 'Error: Permission denied').message).toContain("'dialout' group");
    expect(explainOpenError('/dev/ttyAMA0', new Error('Error Resource temporarily unavailable Cannot lock port')).message).toContain(
      "'fuser -v /dev/ttyAMA0'",
    );
    expect(e('EBUSY', 'busy').code).toBe('EBUSY');
  });
});

describe('listPorts', () => {
  it('annotates ports with their /dev/serial/by-id links', async () => {
    const dev = mkdtempSync(join(tmpdir(), 'cg-dev-'));
    writeFileSync(join(dev, 'ttyUSB0'), '');
    mkdirSync(join(dev, 'serial', 'by-id'), { recursive: true });
    symlinkSync(join(dev, 'ttyUSB0'), join(dev, 'serial', 'by-id', 'usb-FTDI_FT232R_A50285BI-if00-port0'));
    symlinkSync(join(dev, 'ttyUSB9'), join(dev, 'serial', 'by-id', 'usb-gone-if00-port0')); // dangling
    const r = await listPorts(async () => [{ path: join(dev, 'ttyUSB0'), manufacturer: 'FTDI', vendorId: '0403', productId: '6001' }], dev);
    expect(r.warning).toBeUndefined();
    expect(r.ports).toEqual([
      {
        path: join(dev, 'ttyUSB0'),
        manufacturer: 'FTDI',
        vendorId: '0403',
        productId: '6001',
        byId: [join(dev, 'serial', 'by-id', 'usb-FTDI_FT232R_A50285BI-if00-port0')],
      },
    ]);
  });

  it('falls back to a /dev scan when list() rejects (no udevadm), and says so', async () => {
    const dev = mkdtempSync(join(tmpdir(), 'cg-dev-'));
    for (const n of ['ttyAMA0', 'ttyUSB10', 'ttyUSB2', 'tty1', 'null', 'ttyACM0']) writeFileSync(join(dev, n), '');
    const r = await listPorts(() => Promise.reject(new Error('spawn udevadm ENOENT')), dev);
    expect(r.warning).toContain('udevadm');
    expect(r.ports.map((p) => p.path)).toEqual(['ttyACM0', 'ttyAMA0', 'ttyUSB2', 'ttyUSB10'].map((n) => join(dev, n)));
  });
});

/**
 * `citygate probe serial` in process, over serialport's mock binding: decoded lines,
 * hexdump, bounds, list output, and argument mistakes as UserErrors.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../../src/core/errors.js';
import { probeSettings, runSerialList, runSerialProbe } from '../../../src/cli/probe/serial.js';
import { Hexdump, formatFrame, hexdumpLine } from '../../../src/drivers/serial/probe-format.js';
import { MockSerialBench, settle } from '../../helpers/mock-serial.js';
import { NMEA_SENTENCES, PMS5003_FRAMES } from './fixtures.js';

function streams() {
  const out = new PassThrough();
  const err = new PassThrough();
  let o = '';
  let e = '';
  out.on('data', (b: Buffer) => (o += b.toString()));
  err.on('data', (b: Buffer) => (e += b.toString()));
  return { s: { out, err }, out: () => o, err: () => e };
}

async function whenOpen(bench: MockSerialBench): Promise<void> {
  for (let i = 0; i < 100 && !bench.current()?.isOpen; i++) await settle();
}

describe('probe serial (in process)', () => {
  it('prints one line per decoded frame with units, stops at --count, ends with counters', async () => {
    const bench = new MockSerialBench();
    bench.plug('/dev/ttyUSB0');
    const io = streams();
    const run = runSerialProbe({ port: '/dev/ttyUSB0', protocol: 'pms5003', count: '2', duration: '10s' }, io.s, bench.ports);
    await whenOpen(bench);
    const f = PMS5003_FRAMES[0]!.bytes;
    bench.send(Uint8Array.from([0xee, ...f, ...f, ...f]));
    expect(await run).toBe(0);
    const lines = io.out().trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} {2}pm1_0_cf1=5 µg\/m3 {2}pm2_5_cf1=8 µg\/m3 .* particles_10um=2 1\/0\.1L$/);
    expect(io.err()).toContain('listening on /dev/ttyUSB0 at 9600 8N1, decoding pms5003, until 2 frames, for at most 10s');
    expect(io.err()).toMatch(/frames_ok=3 checksum_failures=0 resyncs=1 bytes_discarded=1/);
  });

  it('hexdumps without --protocol and flushes the partial last line at --duration', async () => {
    const bench = new MockSerialBench();
    bench.plug('/dev/ttyUSB0');
    const io = streams();
    const run = runSerialProbe({ port: '/dev/ttyUSB0', duration: '300ms', parity: 'even', dataBits: '7' }, io.s, bench.ports);
    await whenOpen(bench);
    bench.send(Buffer.from(`${NMEA_SENTENCES[0]}\r\n`.slice(0, 20), 'latin1'));
    expect(await run).toBe(0);
    expect(io.out()).toBe(
      '00000000  24 47 50 47 47 41 2c 31  32 33 35 31 39 2c 34 38  |$GPGGA,123519,48|\n' +
        '00000010  30 37 2e 30                                       |07.0|\n',
    );
    expect(io.err()).toContain('at 9600 7E1, hexdump');
  });

  it('exit 2 when --count is not reached, with the hint for bytes that do not decode', async () => {
    const bench = new MockSerialBench();
    bench.plug('/dev/ttyUSB0');
    const io = streams();
    const run = runSerialProbe({ port: '/dev/ttyUSB0', protocol: 'nmea', count: '1', duration: '300ms' }, io.s, bench.ports);
    await whenOpen(bench);
    bench.send(Uint8Array.from([0x00, 0xff, 0x13]));
    expect(await run).toBe(2);
    expect(io.err()).toContain('no nmea frame decoded — check the baud rate');
    expect(io.err()).toContain('only 0 of 1 frames');
  });

  it('a port lost mid-probe is a runtime failure naming the port', async () => {
    const bench = new MockSerialBench();
    bench.plug('/dev/ttyUSB0');
    const io = streams();
    const run = runSerialProbe({ port: '/dev/ttyUSB0', duration: '10s' }, io.s, bench.ports);
    await whenOpen(bench);
    bench.unplug('/dev/ttyUSB0');
    await expect(run).rejects.toThrow(/serial port \/dev\/ttyUSB0 was lost during the probe: .*EIO/);
  });

  it('argument mistakes are UserErrors that say what is right', async () => {
    const bench = new MockSerialBench();
    const bad = async (o: Parameters<typeof probeSettings>[0], msg: RegExp) => {
      const p = runSerialProbe(o, streams().s, bench.ports);
      await expect(p).rejects.toBeInstanceOf(UserError);
      await expect(runSerialProbe(o, streams().s, bench.ports)).rejects.toThrow(msg);
    };
    await bad({}, /--port PATH .* or --list/);
    await bad({ port: '/dev/ttyUSB0', protocol: 'gps' }, /--protocol must be one of pms5003, sds011, nmea, lines/);
    await bad({ port: '/dev/ttyUSB0', baud: 'fast' }, /--baud expects a number/);
    await bad({ port: '/dev/ttyUSB0', count: '0' }, /--count expects a whole number above 0/);
    await bad({ port: '/dev/ttyUSB0', duration: 'soon' }, /--duration expects a duration like "10s"/);
    await bad({ port: '/dev/ttyUSB0', protocol: 'lines', regex: '(' }, /invalid serial settings/);
    await bad({ port: '/dev/ttyUSB-missing' }, /cannot open serial port \/dev\/ttyUSB-missing/);
    try {
      probeSettings({ port: '/dev/ttyUSB0', dataBits: '9' });
      expect.unreachable();
    } catch (e) {
      expect((e as UserError).details.join('\n')).toContain('--data-bits');
    }
  });

  it('--list prints ports, by-id links, and the fallback warning', async () => {
    const io = streams();
    const ports = {
      open: () => Promise.reject(new Error('unused')),
      exists: async () => true,
      list: async () => ({
        ports: [{ path: '/dev/ttyUSB0', manufacturer: 'FTDI', vendorId: '0403', productId: '6001', serialNumber: 'A50285BI', byId: ['/dev/serial/by-id/usb-FTDI-if00-port0'] }],
        warning: 'full port listing failed (spawn udevadm ENOENT)',
      }),
    };
    expect(await runSerialList(io.s, ports)).toBe(0);
    expect(io.out()).toBe('/dev/ttyUSB0  (FTDI, 0403:6001, serial A50285BI)\n    /dev/serial/by-id/usb-FTDI-if00-port0   ← use this path in config\n');
    expect(io.err()).toContain('udevadm');
  });
});

describe('probe formatting', () => {
  it('hexdump groups any chunking into 16-byte lines', () => {
    const h = new Hexdump();
    const bytes = Uint8Array.from({ length: 40 }, (_, i) => i + 60);
    const lines = [...h.push(bytes.subarray(0, 7)), ...h.push(bytes.subarray(7, 33)), ...h.push(bytes.subarray(33)), ...h.flush()];
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe(hexdumpLine(32, bytes.subarray(32)));
    expect(lines[0]).toContain('|<=>?@ABCDEFGHIJK|');
  });

  it('frame lines show quality and text values', () => {
    expect(formatFrame('lines', [{ point: 'state', value: 'OPEN' }, { point: 'level', value: null, quality: 'bad' }], new Date(Date.UTC(2026, 0, 1, 12, 0, 1, 5)))).toBe(
      '12:00:01.005  state="OPEN"  level=null (bad)',
    );
  });
});

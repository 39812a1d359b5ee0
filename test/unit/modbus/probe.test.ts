/**
 * `citygate probe modbus scan|read` against an in-process TCP server: what a
 * technician sees, and mistakes reported as UserErrors.
 */
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../../src/core/errors.js';
import { runRead, runScan } from '../../../src/cli/probe/modbus.js';
import { encodeRegisters } from '../../../src/drivers/modbus/codec.js';
import { parseUnits } from '../../../src/drivers/modbus/scan.js';
import { ModbusTcpServer } from '../../../src/drivers/modbus/server/tcp-server.js';

function sink(): { stream: NodeJS.WriteStream; text: () => string } {
  const s = new PassThrough();
  let buf = '';
  s.on('data', (d: Buffer) => (buf += d.toString()));
  return { stream: s as unknown as NodeJS.WriteStream, text: () => buf };
}

describe('probe modbus', () => {
  const server = new ModbusTcpServer();
  let port: string;

  beforeAll(async () => {
    server.slave(1).setRegisters('holding', 0, [0x002a]);
    server.slave(1).setRegisters('input', 0, encodeRegisters(230.5, 'float32', 'CDAB'));
    server.slave(5).holes.holding.add(0);
    server.slave(9).setBits('coil', 0, [true, false, true]);
    server.fault = (unit) => (unit === 11 ? { kind: 'exception', code: 11 } : unit === 12 ? { kind: 'garbage' } : undefined);
    server.slave(11);
    server.slave(12);
    port = String(await server.start(0));
  });
  afterAll(() => server.stop());

  it('scan lists every unit that answers, exceptions included, and skips gateway "no target" replies', async () => {
    const out = sink();
    const err = sink();
    const code = await runScan({ host: '127.0.0.1', portTcp: port, units: '1-12', timeout: '50ms' }, out.stream, err.stream);
    expect(code).toBe(0);
    expect(out.text()).toContain('unit   1  holding 0 = 0x002a (42)');
    expect(out.text()).toContain('unit   5  present: exception 2 (illegal data address) for holding 0');
    expect(out.text()).toContain('unit   9  holding 0 = 0x0000 (0)');
    expect(out.text()).toContain('unit  12  garbled answer (garbage) — wrong baud/parity, or two devices with this id?');
    expect(out.text()).not.toContain('unit  11');
    expect(out.text()).toContain('3 devices answer on 127.0.0.1:' + port + ': 1, 5, 9');
    expect(err.text()).toMatch(/scanning 12 unit ids on 127\.0\.0\.1:\d+, reading holding 0; at most ~1s/);
  });

  it('scan that finds nothing says what to check and fails', async () => {
    const out = sink();
    const code = await runScan({ host: '127.0.0.1', portTcp: port, units: '20-22', timeout: '30ms' }, out.stream, sink().stream);
    expect(code).toBe(2);
    expect(out.text()).toMatch(/no unit answered on 127\.0\.0\.1:\d+ .* Modbus TCP enabled on this port, the unit id/);
  });

  it('read prints every interpretation side by side', async () => {
    const out = sink();
    expect(await runRead({ host: '127.0.0.1', portTcp: port, unit: '1', table: 'input', address: '0', count: '2' }, out.stream)).toBe(0);
    const text = out.text();
    expect(text).toContain('0        30001   0x8000  32768   -32768');
    expect(text).toMatch(/float32 starting at each address[^\n]*\naddress\s+ABCD\s+CDAB\s+BADC\s+DCBA\n0\s+\S+\s+230\.5\s/);
    const coils = sink();
    await runRead({ host: '127.0.0.1', portTcp: port, unit: '9', table: 'coil', address: '0', count: '3' }, coils.stream);
    expect(coils.text()).toContain('0        1       1 0 1');
  });

  it('read with --type and --order decodes consecutive values the way a point would', async () => {
    const out = sink();
    await runRead({ host: '127.0.0.1', portTcp: port, unit: '1', table: 'input', address: '0', count: '2', type: 'float32', order: 'word_swap' }, out.stream);
    expect(out.text()).toMatch(/^unit 1 on 127\.0\.0\.1:\d+: input 0-1, \d+ms\n\naddress {2}float32 CDAB\n0 {8}230\.5\n$/);
    await expect(runRead({ host: '127.0.0.1', portTcp: port, address: '0', type: 'float' })).rejects.toThrow(/--type must be one of/);
    await expect(runRead({ host: '127.0.0.1', portTcp: port, address: '0', type: 'float32', order: 'ACBD' })).rejects.toThrow(/--order must be one of/);
  });

  it('read of a refused address explains the exception', async () => {
    const out = sink();
    expect(await runRead({ host: '127.0.0.1', portTcp: port, unit: '5', address: '0' }, out.stream)).toBe(2);
    expect(out.text()).toContain('answered exception 2 (illegal data address) for holding 0-1 — the device is there');
  });

  it('argument mistakes are UserErrors with the fix', async () => {
    await expect(runScan({})).rejects.toThrow(UserError);
    await expect(runScan({ port: '/dev/ttyUSB0', host: 'x' })).rejects.toThrow(/either --port .* or --host/);
    await expect(runScan({ host: '127.0.0.1', portTcp: port, units: '0-300' })).rejects.toThrow(/units must be within 0-255/);
    await expect(runRead({ host: '127.0.0.1', portTcp: port })).rejects.toThrow(/--address is required/);
    await expect(runRead({ host: '127.0.0.1', portTcp: port, address: '0', count: '200' })).rejects.toThrow(/--count must be 1-125 for holding/);
    await expect(runRead({ host: '127.0.0.1', portTcp: port, address: '0', table: 'holdings' })).rejects.toThrow(/--table must be one of/);
    const e = await runScan({ port: '/dev/ttyUSB0', baud: '12', parity: 'evn' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(UserError);
    expect((e as UserError).details.join('\n')).toMatch(/--baud: expected a baud rate like 9600, got 12\n\s+--parity:/);
  });

  it('TCP addressing as the config writes it: --host H --port N and --host H:N', async () => {
    for (const opts of [{ host: '127.0.0.1', port }, { host: `127.0.0.1:${port}` }]) {
      const out = sink();
      expect(await runRead({ ...opts, unit: '1', address: '0', count: '1' }, out.stream)).toBe(0);
      expect(out.text()).toContain(`unit 1 on 127.0.0.1:${port}: holding 0-0`);
    }
    await expect(runRead({ host: `127.0.0.1:${port}`, portTcp: '1', address: '0' })).rejects.toThrow(/already has a port/);
  });

  it('out-of-range arguments are UserErrors that say the range', async () => {
    await expect(runRead({ host: '127.0.0.1', port, unit: '300', address: '0' })).rejects.toThrow(/--unit must be 0-255/);
    await expect(runRead({ host: '127.0.0.1', port, address: '65536' })).rejects.toThrow(/--address must be 0-65535, got 65536/);
    await expect(runRead({ host: '127.0.0.1', port, address: '65535', count: '2' })).rejects.toThrow(/runs past the last address/);
    await expect(runRead({ host: '127.0.0.1', port, address: '0', type: 'float64', count: '2' })).rejects.toThrow(/float64 needs 4 registers: use --count 4/);
    await expect(runRead({ port: '/dev/ttyUSB0', unit: '0', address: '0' })).rejects.toThrow(/broadcast/);
  });

  it('--type float64 without --count reads the 4 registers it needs', async () => {
    const out = sink();
    expect(await runRead({ host: '127.0.0.1', port, unit: '1', address: '0', type: 'float64' }, out.stream)).toBe(0);
    expect(out.text()).toContain('holding 0-3');
  });

  it('a unit that does not answer is named by its address, with TCP advice', async () => {
    const out = sink();
    expect(await runRead({ host: '127.0.0.1', port, unit: '2', address: '0', timeout: '50ms' }, out.stream)).toBe(2);
    expect(out.text()).toMatch(/^unit 2 on 127\.0\.0\.1:\d+ did not answer — check the unit id, then check that the PLC/);
    expect(out.text()).not.toContain('probe');
  });

  it('units print as found; a scan cut short (link lost, Ctrl-C) still ends with a summary', async () => {
    const flaky = new ModbusTcpServer();
    flaky.slave(1).setRegisters('holding', 0, [7]);
    flaky.slave(2).setRegisters('holding', 0, [8]);
    flaky.fault = (unit) => {
      if (unit === 4) void flaky.stop();
      return undefined;
    };
    const p = String(await flaky.start(0));
    const out = sink();
    expect(await runScan({ host: '127.0.0.1', portTcp: p, units: '1-10', timeout: '100ms' }, out.stream, sink().stream)).toBe(2);
    expect(out.text()).toMatch(/unit {3}1 {2}holding 0 = 0x0007[^\n]*\nunit {3}2 {2}holding 0 = 0x0008[^\n]*\nscan stopped after [\d.]+s: the connection was lost .*\n2 devices answer on 127\.0\.0\.1:\d+: 1, 2 \(so far\)\n$/);

    const ac = new AbortController();
    const slow = new ModbusTcpServer();
    slow.slave(1).setRegisters('holding', 0, [9]);
    slow.fault = (unit) => {
      if (unit === 3) ac.abort();
      return undefined;
    };
    const sp = String(await slow.start(0));
    const out2 = sink();
    expect(await runScan({ host: '127.0.0.1', portTcp: sp, units: '1-50', timeout: '100ms' }, out2.stream, sink().stream, ac.signal)).toBe(130);
    expect(out2.text()).toMatch(/unit {3}1 {2}holding 0 = 0x0009[^\n]*\nscan interrupted after [\d.]+s\n1 device answers on 127\.0\.0\.1:\d+: 1 \(so far\)\n$/);
    await slow.stop();
  });

  it('a missing serial port is a runtime error that says what to check', async () => {
    await expect(runScan({ port: '/dev/ttyCITYGATE-NONE', units: '1' }, sink().stream, sink().stream)).rejects.toThrow(/\/dev\/ttyCITYGATE-NONE: the port does not exist: is the adapter plugged in/);
  });

  it('parses unit lists', () => {
    expect(parseUnits('1-3,7,5-6', 247)).toEqual([1, 2, 3, 5, 6, 7]);
    expect(() => parseUnits('0-3', 247)).toThrow(/within 1-247/);
    expect(() => parseUnits('a', 247)).toThrow(/not a unit or range/);
  });
});

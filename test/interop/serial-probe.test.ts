/**
 * `citygate probe serial` as a technician runs it, against a socat pty pair: decoded
 * frames, a hexdump, bounded by --count / --duration, and the exit codes.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeSds011 } from '../../src/drivers/serial/protocols/sds011.js';
import { sensorOnPty } from './serial-pty.js';

const BIN = fileURLToPath(new URL('../../bin/citygate.js', import.meta.url));

function citygate(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (b: Buffer) => (out += b.toString()));
    p.stderr.on('data', (b: Buffer) => (err += b.toString()));
    p.on('exit', (code) => resolve({ code, out, err }));
  });
}

describe('citygate probe serial over a pty pair', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const f of cleanup.reverse()) await f();
    cleanup.length = 0;
  });

  async function sensorStreaming(frame: () => Uint8Array | string, ms: number) {
    const { pair, sensor } = await sensorOnPty(cleanup);
    cleanup.push(sensor.stream(frame, ms));
    return pair;
  }

  it('decodes SDS011 frames live and stops after --count', async () => {
    let n = 0;
    const pair = await sensorStreaming(() => encodeSds011(12.3 + n++, 45.6), 100);
    const r = await citygate(['probe', 'serial', '--port', pair.b, '--protocol', 'sds011', '--count', '3', '--duration', '20s']);
    expect(r.err).toContain(`listening on ${pair.b} at 9600 8N1, decoding sds011`);
    const lines = r.out.trim().split('\n');
    expect(lines).toHaveLength(3);
    for (const l of lines) expect(l).toMatch(/^\d\d:\d\d:\d\d\.\d{3} {2}pm2_5=\d+(\.\d)? µg\/m3 {2}pm10=45\.6 µg\/m3$/);
    expect(r.err).toMatch(/frames_ok=\d+ checksum_failures=0/);
    expect(r.code).toBe(0);
  });

  it('hexdumps raw bytes without --protocol', async () => {
    const pair = await sensorStreaming(() => 'T=21.5 RH=40\r\n', 50);
    const r = await citygate(['probe', 'serial', '--port', pair.b, '--count', '2', '--duration', '20s']);
    const lines = r.out.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^00000000 {2}54 3d 32 31 2e 35 20 52 {2}48 3d 34 30 0d 0a 54 3d {2}\|T=21\.5 RH=40\.\.T=\|$/);
    expect(lines[1]).toMatch(/^00000010 {2}/);
    expect(r.code).toBe(0);
  });

  it('exits 2 when --count is not reached within --duration, and says why', async () => {
    const pair = await sensorStreaming(() => 'noise', 100);
    const r = await citygate(['probe', 'serial', '--port', pair.b, '--protocol', 'pms5003', '--count', '1', '--duration', '1500ms']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('no pms5003 frame decoded — check the baud rate');
    expect(r.err).toContain('only 0 of 1 frames');
  });

  it('a wrong port path or protocol is a user error: exit 1, a hint, no stack trace', async () => {
    const missing = await citygate(['probe', 'serial', '--port', '/dev/ttyUSB-nonexistent', '--duration', '1s']);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('cannot open serial port /dev/ttyUSB-nonexistent');
    expect(missing.err).toContain('--list');
    expect(missing.err).not.toMatch(/\n\s+at /);
    const proto = await citygate(['probe', 'serial', '--port', '/dev/null', '--protocol', 'pms7003']);
    expect(proto.code).toBe(1);
    expect(proto.err).toContain('--protocol must be one of pms5003, sds011, nmea, lines');
    const none = await citygate(['probe', 'serial']);
    expect(none.code).toBe(1);
    expect(none.err).toContain('--list');
  });

  it('--list never fails, even without udevadm', async () => {
    const r = await citygate(['probe', 'serial', '--list']);
    expect(r.code).toBe(0);
    expect(r.out.length + r.err.length).toBeGreaterThan(0);
  });
});

/**
 * `citygate … | head -1`: the reader closes stdout early. Every command that writes
 * to stdout must then exit quietly (no EPIPE stack trace) with the status it has when
 * its output is read to the end: 0 on success, 1 when validate finds problems.
 * The child's stdout is a pipe whose read end this test closes before the child starts.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, STACK, runCli } from '../../helpers/cli.js';
import { tempDir } from '../../helpers/gateway-config.js';
import { freePort } from '../../helpers/net.js';
import { buildTree, TREES } from '../gpio/fixtures/tree.js';
import { ModbusTcpServer } from '../../../src/drivers/modbus/server/tcp-server.js';
import { EmbeddedBroker } from '../../../src/demo/embedded-broker.js';
import { SqliteBuffer } from '../../../src/buffer/sqlite-buffer.js';
import { systemClock } from '../../../src/core/clock.js';

interface Closed {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** The CLI with its stdout a pipe nobody reads: closed before the child writes. */
function runClosed(args: string[], input?: string): Promise<Closed> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    p.stdout!.destroy();
    let stderr = '';
    p.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    if (input !== undefined) p.stdin!.end(input);
    const timer = setTimeout(() => p.kill('SIGKILL'), 60_000);
    p.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr });
    });
  });
}

const dir = tempDir('cg-epipe-');
const config = join(dir, 'gateway.yaml');
writeFileSync(config, stringify({ gateway: { id: 'epipe-gw', data_dir: join(dir, 'data') }, uplink: { url: 'mqtt://127.0.0.1:9' }, devices: [{ id: 's', driver: 'sim', poll: '1s', points: [{ name: 'x' }] }] }));
const buffer = new SqliteBuffer({ dataDir: join(dir, 'data'), maxBytes: 1 << 30, maxAgeMs: 86_400_000, onFull: 'drop_oldest', synchronous: 'full', maxReadingsPerRow: 100, clock: systemClock });
buffer.commit(Array.from({ length: 50 }, (_, i) => ({ device: 's', point: 'x', value: i, ts: 1_700_000_000_000 + i, quality: 'good' as const })));
buffer.close();
const message = JSON.stringify({ gateway: 'g', device: 'd', readings: [{ point: 'x', value: 1, ts: 1_700_000_000_000, seq: 1, quality: 'good' }] });
const payload = join(dir, 'payload.json');
writeFileSync(payload, message);

describe('stdout closed early (citygate … | head)', () => {
  let plc: ModbusTcpServer;
  let plcPort = 0;
  let health: Server;
  let healthUrl = '';
  let broker: EmbeddedBroker;
  const gpioRoot = buildTree(TREES['bcm2711-bookworm']!, { exported: [529] });

  beforeAll(async () => {
    plc = new ModbusTcpServer();
    plc.slave(1).setRegisters('holding', 0, [0x4366, 0x8000, 7, 8]);
    plcPort = await plc.start(0);
    const body = {
      gateway: 'gw-1', ts: Date.now(), version: '0.1.0', uptime_s: 42,
      uplink: { state: 'online', reconnects: 0, published: 1, acked_readings: 1 },
      buffer: { readings: 0, rows: 0, bytes: 0, file_bytes: 4096, oldest_age_s: null, next_seq: 2, dropped: 0, rejected: 0, pending_events: 0 },
      devices: {}, system: { cpu_temp_c: null, load_1m: 0.1, disk_free_bytes: 1e9 },
    };
    health = createServer((_req, res) => res.end(JSON.stringify(body)));
    await new Promise<void>((r) => health.listen(0, '127.0.0.1', r));
    healthUrl = `http://127.0.0.1:${(health.address() as AddressInfo).port}`;
    broker = new EmbeddedBroker('127.0.0.1', 0);
    await broker.start();
  });
  afterAll(async () => {
    await plc.stop();
    health.close();
    await broker.stop();
  });

  const cases: Record<string, { args: () => string[] | Promise<string[]>; input?: string; code?: number }> = {
    '--help': { args: () => ['--help'], code: 0 },
    '--version': { args: () => ['--version'], code: 0 },
    'help validate': { args: () => ['help', 'validate'], code: 0 },
    schema: { args: () => ['schema'], code: 0 },
    'validate (valid files)': { args: () => ['validate', 'boards/demo.yaml', 'test/golden/valid-minimal.yaml'], code: 0 },
    'validate (a broken file)': { args: () => ['validate', 'test/golden/unknown-keys.yaml'], code: 1 },
    'validate --explain': { args: () => ['validate', '--explain', 'boards/demo.yaml'], code: 0 },
    'queue stats': { args: () => ['queue', 'stats', '--config', config], code: 0 },
    'queue stats --json': { args: () => ['queue', 'stats', '--json', '--config', config], code: 0 },
    'queue export': { args: () => ['queue', 'export', '--config', config], code: 0 },
    decode: { args: () => ['decode', payload], code: 0 },
    'decode --hex (stdin)': { args: () => ['decode', '--hex', '--pretty'], input: Buffer.from(message).toString('hex'), code: 0 },
    'probe modbus read': { args: () => ['probe', 'modbus', 'read', '--host', '127.0.0.1', '--port', String(plcPort), '--address', '0', '--count', '4'], code: 0 },
    'probe modbus scan': { args: () => ['probe', 'modbus', 'scan', '--host', '127.0.0.1', '--port', String(plcPort), '--units', '1-3', '--timeout', '200ms'], code: 0 },
    'probe gpio info': { args: () => ['probe', 'gpio', 'info', '--sysfs-root', gpioRoot], code: 0 },
    'probe gpio watch (until Ctrl-C: ends when nobody reads)': { args: () => ['probe', 'gpio', 'watch', '17', '--sysfs-root', gpioRoot], code: 0 },
    status: { args: () => ['status', '--url', healthUrl], code: 0 },
    'status --json': { args: () => ['status', '--json', '--url', healthUrl], code: 0 },
    doctor: { args: () => ['doctor', '--no-broker', '--config', config] }, // its status depends on this machine
    'fleet --once': { args: () => ['fleet', '--url', `mqtt://127.0.0.1:${broker.port}`, '--once', '--settle', '300ms'], code: 0 },
    'demo (until Ctrl-C: ends when nobody reads)': { args: async () => ['demo', '--port', String(await freePort()), '--data-dir', tempDir('cg-epipe-demo-')], code: 0 },
  };

  it.each(Object.entries(cases))('%s: exits as when read to the end, no stack trace', async (_name, c) => {
    const args = await c.args();
    let expected = c.code;
    if (!args.includes('demo') && !args.includes('watch')) {
      // The same command read to the end: the status to keep, and it does write to stdout.
      const full = await runCli(args, { input: c.input, timeoutMs: 60_000 });
      if (expected !== undefined) expect(full.code, full.stderr).toBe(expected);
      expected = full.code ?? -1;
      expect(full.stdout.length).toBeGreaterThan(0);
    }
    const r = await runClosed(args, c.input);
    expect(r.stderr).not.toMatch(/EPIPE/);
    expect(r.stderr).not.toMatch(STACK);
    expect(r.signal).toBeNull();
    expect(r.code, r.stderr).toBe(expected);
  }, 90_000);
});

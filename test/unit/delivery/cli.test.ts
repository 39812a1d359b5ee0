/**
 * The commands technicians and integrators type: validate, queue and status, run as
 * installed (a child process), with their output and exit codes.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { SqliteBuffer } from '../../../src/buffer/sqlite-buffer.js';
import { systemClock } from '../../../src/core/clock.js';
import { ChildGateway } from '../../helpers/child-gateway.js';
import { freePort } from '../../helpers/net.js';
import { tempDir } from '../../helpers/gateway-config.js';

const BIN = fileURLToPath(new URL('../../../bin/citygate.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

function gatewayFile(dir: string, extra: object = {}): string {
  const file = join(dir, 'gateway.yaml');
  writeFileSync(file, stringify({ gateway: { id: 'cli-gw', data_dir: join(dir, 'data') }, uplink: { url: 'mqtt://127.0.0.1:9' }, ...extra }));
  return file;
}

describe('citygate validate', () => {
  it('exit 0 with a summary per good file, exit 1 with every problem, no stack trace', async () => {
    const ok = await cli(['validate', 'boards/demo.yaml', 'test/golden/valid-minimal.yaml']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^boards\/demo\.yaml: ok — gateway demo-gw, 4 devices/m);
    expect(ok.stdout).toMatch(/^test\/golden\/valid-minimal\.yaml: ok/m);

    const bad = await cli(['validate', 'test/golden/unknown-keys.yaml', 'boards/demo.yaml']);
    expect(bad.code).toBe(1);
    const expected = readFileSync(join(ROOT, 'test/golden/unknown-keys.errors'), 'utf8').trim().split('\n');
    for (const line of expected) expect(bad.stdout).toContain(line);
    expect(bad.stderr).toContain('1 of 2 files failed validation');
    expect(bad.stderr).not.toMatch(/\n\s+at /);

    const missing = await cli(['validate', 'no/such.yaml']);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toContain('no/such.yaml: cannot read (no such file)');
  }, 60_000);

  it('--explain prints the Modbus plan', async () => {
    const r = await cli(['validate', '--explain', 'boards/plc-tcp.yaml']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/requests\/min/);
    expect(r.stdout).toMatch(/FC0\d read/);
  }, 60_000);
});

describe('citygate queue', () => {
  it('stats, export (NDJSON, nothing removed) and purge (refused without --yes, recorded as an event)', async () => {
    const dir = tempDir();
    const file = gatewayFile(dir);
    const b = new SqliteBuffer({ dataDir: join(dir, 'data'), maxBytes: 1 << 30, maxAgeMs: 86_400_000, onFull: 'drop_oldest', synchronous: 'full', maxReadingsPerRow: 100, clock: systemClock });
    b.commit(Array.from({ length: 250 }, (_, i) => ({ device: i % 2 ? 'a' : 'b', point: 'p', value: i, ts: 1_700_000_000_000 + i, quality: 'good' as const })));
    b.close();

    const stats = await cli(['queue', 'stats', '--config', file, '--json']);
    expect(stats.code).toBe(0);
    expect(JSON.parse(stats.stdout)).toMatchObject({ readings: 250, next_seq: 251, devices: [{ device: 'a', readings: 125 }, { device: 'b', readings: 125 }] });

    const out = join(dir, 'export.ndjson');
    expect((await cli(['queue', 'export', '--config', file, '--out', out])).code).toBe(0);
    const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { seq: number; device: string });
    expect(lines.map((l) => l.seq).sort((x, y) => x - y)).toEqual(Array.from({ length: 250 }, (_, i) => i + 1));
    expect(JSON.parse((await cli(['queue', 'stats', '--config', file, '--json'])).stdout).readings).toBe(250);

    const refused = await cli(['queue', 'purge', '--config', file]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('this deletes 250 buffered readings that were never delivered — add --yes');
    const purged = await cli(['queue', 'purge', '--config', file, '--device', 'a', '--yes']);
    expect(purged.code).toBe(0);
    expect(purged.stdout).toContain('purged 125 readings');
    const after = JSON.parse((await cli(['queue', 'stats', '--config', file, '--json'])).stdout);
    expect(after).toMatchObject({ readings: 125, pending_events: 1 });
    const nosuch = await cli(['queue', 'purge', '--config', file, '--device', 'nosuch', '--yes']);
    expect(nosuch.code).toBe(1);
    expect(nosuch.stderr).toContain('no buffered readings of device "nosuch" — devices with readings waiting: b');
    const warnOne = await cli(['queue', 'purge', '--config', file, '--device', 'b']);
    expect(warnOne.stderr).toContain('this deletes 125 buffered readings of b');
  }, 60_000);

  it('says plainly when there is no buffer yet', async () => {
    const r = await cli(['queue', 'stats', '--config', gatewayFile(tempDir())]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no buffer at .*buffer\.db — has the gateway run with this config/);
  }, 30_000);
});

describe('citygate status', () => {
  let child: ChildGateway | undefined;
  afterEach(async () => child?.kill('SIGKILL'));

  it("shows a running gateway's health as a table, says when none answers; purge refuses while it runs", async () => {
    const dir = tempDir();
    const port = await freePort();
    const extra = { health: { http: `127.0.0.1:${port}` }, devices: [{ id: 'temp-1', driver: 'sim', poll: '100ms', points: [{ name: 't' }] }] };
    const file = gatewayFile(dir, extra);
    const none = await cli(['status', '--config', file]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain(`no gateway answering at http://127.0.0.1:${port}`);

    child = new ChildGateway(dir, { gateway: { id: 'cli-gw', data_dir: join(dir, 'data') }, uplink: { url: 'mqtt://127.0.0.1:9' }, ...extra });
    child.start();
    let r = await cli(['status', '--config', file]);
    for (let i = 0; i < 40 && r.code !== 0; i++) {
      await new Promise((res) => setTimeout(res, 500));
      r = await cli(['status', '--config', file]);
    }
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^gateway cli-gw/m);
    expect(r.stdout).toMatch(/^uplink +(offline|connecting)/m);
    expect(r.stdout).toMatch(/^temp-1 +ok/m);

    const purge = await cli(['queue', 'purge', '--config', file, '--yes']);
    expect(purge.code).toBe(1);
    expect(purge.stderr).toMatch(/in use by pid \d+: another citygate gateway runs on this data_dir — stop it first \(sudo systemctl stop citygate\)/);
  }, 90_000);
});

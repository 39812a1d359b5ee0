/**
 * `citygate fleet` against 240 gateways' retained status and health on a broker
 * (aedes): the CLI sees every one, sorted by trouble; the Prometheus text carries a
 * `gateway` label per series. The ordering rules themselves are checked on the model.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedBroker } from '../../../src/demo/embedded-broker.js';
import { FleetCollector } from '../../../src/fleet/collector.js';
import { renderFleetMetrics } from '../../../src/fleet/prometheus.js';
import { byTrouble, gatewayRow, type GatewayRow } from '../../../src/fleet/model.js';
import { fleetMember, gwId, publishFleet } from '../../helpers/fleet.js';
import { until } from '../../helpers/commander.js';

const BIN = fileURLToPath(new URL('../../../bin/citygate.js', import.meta.url));
const N = 240;

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup.length = 0;
});

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** What the fleet helper's rules say a gateway's trouble class is (0 = worst). */
function expectedClass(i: number): number {
  if (i % 50 === 7) return 0;
  if (i % 40 === 3) return 1;
  if (i % 25 === 5) return 2;
  if (i % 30 === 11) return 3;
  if (i % 60 === 13) return 3.5; // disk low
  return 4;
}

describe('citygate fleet', () => {
  it(`lists all ${N} gateways from retained topics, most trouble first`, async () => {
    const broker = new EmbeddedBroker();
    await broker.start();
    cleanup.push(() => broker.stop());
    await publishFleet(broker.url, N);

    const r = await cli(['fleet', '--url', broker.url, '--once', '--json', '--settle', '1500ms']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as GatewayRow[];
    expect(rows).toHaveLength(N);
    expect(new Set(rows.map((x) => x.gateway)).size).toBe(N);
    const classes = rows.map((x) => expectedClass(Number(x.gateway.slice(3))));
    expect(classes).toEqual([...classes].sort((a, b) => a - b));
    expect(rows[0]).toMatchObject({ state: 'offline', trouble: expect.arrayContaining(['offline']) });
    const stale = rows.find((x) => x.gateway === gwId(3));
    expect(stale?.trouble.join()).toMatch(/health 1\d{3}s old/);
    expect(rows.find((x) => x.gateway === gwId(5))).toMatchObject({ devices: { ok: 1, degraded: 0, down: 1 }, not_ok: ['meter-1'] });
    expect(rows.find((x) => x.gateway === gwId(11))).toMatchObject({ devices: { ok: 1, degraded: 1, down: 0 }, not_ok: ['air-1'] });
    expect(rows.at(-1)?.trouble).toEqual([]);

    const table = await cli(['fleet', '--url', broker.url, '--once', '--settle', '1s', '--limit', '5']);
    expect(table.code).toBe(0);
    const lines = table.stdout.split('\n');
    expect(lines[0]).toBe(`${N} gateways: ${N - 5} online, ${rows.filter((x) => x.trouble.length).length} with trouble`);
    expect(lines[2]).toMatch(/^gateway\s+state\s+health age\s+backlog\s+oldest\s+devices down\s+disk free\s+version\s+trouble$/);
    expect(lines[3]).toMatch(/^gw-007\s+offline/);
    expect(table.stdout).toContain(`… and ${N - 5} more`);
  });

  it('--expect: a listed gateway never seen is a "missing" row; a bad line is named by file:line:col', async () => {
    const broker = new EmbeddedBroker();
    await broker.start();
    cleanup.push(() => broker.stop());
    await publishFleet(broker.url, 3);
    const dir = mkdtempSync(join(tmpdir(), 'cg-expect-'));
    writeFileSync(join(dir, 'fleet.txt'), `# the north side\n${gwId(0)}\n${gwId(1)}\n\nnever-came  # installed last week\n`);
    const r = await cli(['fleet', '--url', broker.url, '--once', '--json', '--settle', '1s', '--expect', join(dir, 'fleet.txt')]);
    expect(r.stderr).toBe('');
    const rows = JSON.parse(r.stdout) as GatewayRow[];
    expect(rows.map((x) => x.gateway).sort()).toEqual([gwId(0), gwId(1), gwId(2), 'never-came']);
    expect(rows[0]).toMatchObject({ gateway: 'never-came', state: 'missing', trouble: ['never seen (expected)', 'no health'] });
    writeFileSync(join(dir, 'bad.txt'), `${gwId(0)}\ncitygate/${gwId(1)}\n`);
    const bad = await cli(['fleet', '--url', broker.url, '--once', '--expect', join(dir, 'bad.txt')]);
    expect(bad.code).toBe(1); // a user mistake: exit 1, no stack trace
    expect(bad.stderr).toContain(`${join(dir, 'bad.txt')}:2:1: "citygate/${gwId(1)}" is not a gateway id`);
  });

  it('says plainly when the broker is not there', async () => {
    const r = await cli(['fleet', '--url', 'mqtt://127.0.0.1:9', '--once']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^citygate: cannot watch mqtt:\/\/127.0.0.1:9: .*ECONNREFUSED/);
    expect((await cli(['fleet', '--url', 'mqtt://127.0.0.1:9', '--settle', 'soon'])).stderr).toMatch(/--settle: expected a duration like "2s", got "soon"/);
  });

  it('renders Prometheus text with a gateway label, leaving out what is unknown', async () => {
    const broker = new EmbeddedBroker();
    await broker.start();
    cleanup.push(() => broker.stop());
    await publishFleet(broker.url, 60);
    const c = new FleetCollector({ url: broker.url, root: 'citygate' });
    await c.start();
    cleanup.push(() => c.stop());
    await until(() => c.size === 60 && c.changes >= 120, 10_000, 'all retained messages');
    const text = renderFleetMetrics(c.rows());
    expect(text).toContain('citygate_fleet_gateways{state="online"} 58');
    expect(text).toContain('citygate_fleet_gateways{state="offline"} 2');
    expect(text).toContain('citygate_gateway_up{gateway="gw-007"} 0');
    expect(text).toContain('citygate_gateway_devices{gateway="gw-005",state="down"} 1');
    expect(text).toContain('citygate_gateway_info{gateway="gw-001",version="0.1.0"} 1');
    expect(text.match(/^citygate_gateway_up\{/gm)).toHaveLength(60);
    // A gateway seen only through its status has no health series at all.
    const lone = renderFleetMetrics([gatewayRow('gw-x"y', { status: { state: 'online' } }, Date.now(), 180)]);
    expect(lone).toContain('citygate_gateway_up{gateway="gw-x\\"y"} 1');
    expect(lone).not.toMatch(/citygate_gateway_buffer_readings\{/);
  });

  it('orders trouble: offline, stale health, devices down, degraded, then healthy', () => {
    const now = Date.now();
    const rows = [0, 3, 5, 7, 11].map((i) => gatewayRow(gwId(i), fleetMember(i, now), now, 180)).sort(byTrouble);
    expect(rows.map((r) => r.gateway)).toEqual(['gw-007', 'gw-003', 'gw-005', 'gw-011', 'gw-000']);
  });
});

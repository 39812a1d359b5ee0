/**
 * `citygate fleet --prometheus` as the one scrape target for a fleet: 250 gateways'
 * retained status and health on a real Mosquitto, the real CLI exporting them, and a
 * real Prometheus scraping it. Prometheus must see every gateway under its `gateway`
 * label, with the values the gateways published.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Mosquitto } from '../helpers/mosquitto.js';
import { Prometheus } from '../helpers/prometheus.js';
import { publishFleet } from '../helpers/fleet.js';
import { freePort } from '../helpers/net.js';
import { until } from '../helpers/commander.js';

const BIN = fileURLToPath(new URL('../../bin/citygate.js', import.meta.url));
const N = 250;

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup.length = 0;
});

describe('fleet exporter scraped by Prometheus', () => {
  it(`exposes ${N} gateways with a gateway label`, async () => {
    const broker = new Mosquitto();
    await broker.start();
    cleanup.push(() => broker.stop());
    await publishFleet(broker.url, N);

    const port = await freePort();
    let out = '';
    let err = '';
    const exporter: ChildProcess = spawn(process.execPath, [BIN, 'fleet', '--url', broker.url, '--prometheus', `127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    exporter.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    exporter.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((r) => exporter.once('exit', (code) => r(code)));
    cleanup.push(() => void exporter.kill('SIGKILL'));
    await until(() => out.includes('/metrics') || exporter.exitCode !== null, 20_000, 'the exporter to listen');
    expect(err).toBe('');
    expect(out).toContain(`on http://127.0.0.1:${port}/metrics`);

    const prom = new Prometheus([`127.0.0.1:${port}`]);
    await prom.start();
    cleanup.push(() => prom.stop());

    let count: number | undefined;
    await until(
      () => {
        void prom.query('count(citygate_gateway_up)').then((r) => (count = r[0]?.value), () => undefined);
        return count === N;
      },
      60_000,
      `Prometheus to see ${N} gateways (log: ${prom.log().slice(-500)})`,
    );
    expect(await prom.query('up{job="citygate-fleet"}')).toMatchObject([{ value: 1 }]);
    const down = await prom.query('citygate_gateway_up == 0');
    expect(down.map((r) => r.metric.gateway).sort()).toEqual(['gw-007', 'gw-057', 'gw-107', 'gw-157', 'gw-207']);
    expect((await prom.query('citygate_gateway_buffer_readings{gateway="gw-123"}'))[0]?.value).toBe(123);
    expect((await prom.query('sum(citygate_gateway_devices{state="down"})'))[0]?.value).toBe(10); // i % 25 == 5
    expect((await prom.query('citygate_gateway_health_age_seconds > 600')).length).toBe(7); // i % 40 == 3
    expect((await prom.query('count by (version) (citygate_gateway_info)')).length).toBe(2);

    exporter.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});

/**
 * Fleet exporter worker (bench/sections/fleet.ts): one process that subscribes to the
 * retained `status` and `health` of `n` gateways and reports its memory once it holds
 * them all.
 *   mode "raw":      a bare mqtt.js subscriber keeping the latest payload per topic (the baseline);
 *   mode "exporter": the real FleetCollector + /metrics server (what `citygate fleet
 *                    --prometheus` runs), scraped `scrapes` times over HTTP from this process.
 */
import { get } from 'node:http';
import mqtt from 'mqtt';
import { FleetCollector } from '../../src/fleet/collector.js';
import { serveFleetMetrics } from '../../src/fleet/prometheus.js';
import { sleep, waitFor, workerMain } from '../lib/worker.js';

interface Args {
  mode: 'raw' | 'exporter';
  url: string;
  n: number;
  scrapes: number;
}

export interface FleetResult {
  /** ms from connect to every retained message held. */
  receiveMs: number;
  complete: boolean;
  rssMiB: number;
  heapMiB: number;
  /** exporter only: /metrics response times (ms) and size. */
  scrapeP50Ms?: number;
  scrapeMaxMs?: number;
  scrapeBytes?: number;
}

const mib = (b: number): number => Math.round((b / 2 ** 20) * 10) / 10;

function scrape(url: string): Promise<{ ms: number; bytes: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      let bytes = 0;
      res.on('data', (d: Buffer) => (bytes += d.length));
      res.on('end', () => resolve({ ms: performance.now() - t0, bytes }));
      res.on('error', reject);
    }).on('error', reject);
  });
}

async function settleMemory(): Promise<{ rssMiB: number; heapMiB: number }> {
  await sleep(1000);
  const m = process.memoryUsage();
  return { rssMiB: mib(m.rss), heapMiB: mib(m.heapUsed) };
}

workerMain<Args, FleetResult>(async (a) => {
  const t0 = performance.now();
  const want = 2 * a.n;
  const timeout = 120_000;
  if (a.mode === 'raw') {
    const latest = new Map<string, Buffer>();
    const c = await mqtt.connectAsync(a.url, { protocolVersion: 4, reconnectPeriod: 0 });
    c.on('message', (topic, payload) => latest.set(topic, payload));
    await c.subscribeAsync(['citygate/+/status', 'citygate/+/health'], { qos: 0 });
    const complete = await waitFor(() => latest.size >= want, timeout, 20);
    const receiveMs = Math.round(performance.now() - t0);
    const mem = await settleMemory();
    await c.endAsync(true);
    return { receiveMs, complete, ...mem };
  }
  const collector = new FleetCollector({ url: a.url, root: 'citygate' });
  await collector.start(30_000);
  const complete = await waitFor(() => collector.changes >= want, timeout, 20);
  const receiveMs = Math.round(performance.now() - t0);
  const { server, address } = await serveFleetMetrics('127.0.0.1:0', () => collector.rows(), () => ({ brokerUp: collector.brokerUp, brokerDownS: collector.downForS(), malformed: collector.malformed }));
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < a.scrapes; i++) {
    const r = await scrape(`http://${address}/metrics`);
    times.push(r.ms);
    bytes = r.bytes;
  }
  const mem = await settleMemory();
  await new Promise<void>((r) => server.close(() => r()));
  await collector.stop();
  times.sort((x, y) => x - y);
  return {
    receiveMs,
    complete,
    ...mem,
    scrapeP50Ms: Math.round(times[Math.floor(times.length / 2)] ?? 0),
    scrapeMaxMs: Math.round(times.at(-1) ?? 0),
    scrapeBytes: bytes,
  };
});

/**
 * Live first (issue 8): how late fresh readings are while a backlog drains over a
 * 2G-like link, `uplink.order: live_first` against `strict` (the baseline: today's
 * order) in the same run. The link is test/helpers/throttle-proxy.ts on loopback
 * (25 kB/s = 200 kbit/s each way, 300 ms each way, no loss: loss needs netem, see the
 * links tests); the broker is the in-process aedes; the gateway runs in this process.
 *
 * Setup per order (scale 1; BENCH_QUICK: a fifth): the buffer holds `BACKLOG_MIN` minutes of a 100-point device at 1 Hz
 * from an earlier run (30,000 readings at scale 1: more than the window can drain, so
 * the backlog drains throughout), then a gateway with that device live (100 readings/s)
 * runs for `WINDOW_S` seconds. Fresh-reading latency = arrival at the broker − the
 * reading's ts. The backlog's size beyond "still draining" does not matter: what a live
 * message queues behind is the backlog's in-flight budget, not the backlog.
 */
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import type { BenchContext, BenchRow, BenchSection } from '../types.js';
import { EmbeddedBroker } from '../../src/demo/embedded-broker.js';
import { Gateway } from '../../src/runtime/gateway.js';
import { SqliteBuffer } from '../../src/buffer/sqlite-buffer.js';
import { systemClock } from '../../src/core/clock.js';
import { configSchema } from '../../src/config/schema.js';
import type { DataPayload } from '../../src/uplink/topics.js';
import { ThrottleProxy } from '../../test/helpers/throttle-proxy.js';

const LINK = { bytesPerSecond: 25_000, delayMs: 300 };
const POINTS = 100;
const BACKLOG_MIN = 5;
const WINDOW_S = 60;
const TARGET_P99_MS = 10_000;

interface Run {
  fresh: number[];
  backlogReadings: number;
  freshReadings: number;
  secs: number;
  wireBytes: number;
}

async function run(ctx: BenchContext, order: 'live_first' | 'strict'): Promise<Run> {
  const dir = join(ctx.tmpDir, `livefirst-${order}`);
  mkdirSync(dir, { recursive: true });
  const f = Math.max(ctx.scale, 0.2);
  const backlog = Math.round(BACKLOG_MIN * 60 * POINTS * f);
  const prior = new SqliteBuffer({ dataDir: dir, maxBytes: 1 << 30, maxAgeMs: 86_400_000, onFull: 'drop_oldest', synchronous: 'normal', maxReadingsPerRow: 100, clock: systemClock });
  const t0 = Date.now() - BACKLOG_MIN * 60_000;
  for (let i = 0; i < backlog; i += POINTS) {
    prior.commit(Array.from({ length: POINTS }, (_, k) => ({ device: 'pole', point: `p_${k}`, value: 20 + ((i + k) % 97) / 10, unit: 'degC', ts: t0 + i * 10, quality: 'good' as const })));
  }
  prior.close();

  const broker = new EmbeddedBroker();
  await broker.start();
  const proxy = new ThrottleProxy({ target: broker.port, ...LINK });
  await proxy.start();
  const config = configSchema.parse({
    gateway: { id: 'bench-gw', data_dir: dir },
    uplink: { url: `mqtt://127.0.0.1:${proxy.port}`, protocol_version: 4, order },
    health: { http: false, interval: '1h' },
    devices: [{ id: 'pole', driver: 'sim', poll: '1s', points: [{ name: 'p', wave: 'random_walk', min: 0, max: 100, step: 0.5, precision: 1, replicas: POINTS }] }],
  });
  const r: Run = { fresh: [], backlogReadings: 0, freshReadings: 0, secs: 0, wireBytes: 0 };
  let counting = true;
  broker.onPublish((m) => {
    if (!counting || !m.topic.includes('/data/')) return;
    const msg = JSON.parse(m.payload.toString()) as DataPayload;
    const at = Date.now();
    for (const x of msg.readings) {
      if (x.seq <= backlog) r.backlogReadings++;
      else {
        r.freshReadings++;
        r.fresh.push(at - x.ts);
      }
    }
  });
  const gateway = new Gateway(config);
  const start = performance.now();
  try {
    await gateway.start();
    await new Promise((res) => setTimeout(res, WINDOW_S * 1000 * f));
    r.secs = (performance.now() - start) / 1000;
    r.wireBytes = proxy.bytesUp();
    counting = false; // what arrives during the stop's drain is not counted
    r.fresh.sort((a, b) => a - b);
  } finally {
    await gateway.stop();
    await proxy.stop();
    await broker.stop();
  }
  ctx.log(`livefirst ${order}: ${r.freshReadings} fresh, ${r.backlogReadings} backlog readings in ${r.secs.toFixed(0)} s`);
  return r;
}

const pct = (xs: number[], p: number): number => xs[Math.min(xs.length - 1, Math.floor(xs.length * p))] ?? Number.NaN;

const section: BenchSection = {
  name: 'livefirst',
  async run(ctx) {
    const live = await run(ctx, 'live_first');
    const strict = await run(ctx, 'strict');
    const p99 = pct(live.fresh, 0.99);
    const link = `${(LINK.bytesPerSecond * 8) / 1000} kbit/s, ${LINK.delayMs} ms each way`;
    const rows: BenchRow[] = [
      { name: `livefirst: fresh-reading latency p50 while a backlog drains (${link})`, value: Math.round(pct(live.fresh, 0.5)), unit: 'ms' },
      { name: 'livefirst: fresh-reading latency p99 while a backlog drains', value: Math.round(p99), unit: 'ms', target: `<= ${TARGET_P99_MS} ms`, ok: p99 <= TARGET_P99_MS, note: `${live.fresh.length} fresh readings in ${live.secs.toFixed(0)} s; max ${Math.round(pct(live.fresh, 1))} ms` },
      {
        name: 'livefirst: fresh readings delivered in the window (strict order = baseline)',
        value: live.freshReadings,
        unit: 'readings',
        baseline: strict.freshReadings,
        note: strict.freshReadings === 0 ? 'strict: not one fresh reading got past the backlog' : `strict: p50 ${Math.round(pct(strict.fresh, 0.5))} ms`,
      },
      {
        name: 'livefirst: backlog drained per second beside the live stream (strict = baseline)',
        value: Math.round(live.backlogReadings / live.secs),
        unit: 'readings/s',
        baseline: Math.round(strict.backlogReadings / strict.secs),
        ratio: Number((live.backlogReadings / live.secs / (strict.backlogReadings / strict.secs)).toFixed(2)),
        note: 'strict spends the whole link on the backlog; live_first spends ~100 readings/s of it on fresh readings',
      },
      {
        name: 'livefirst: link use (bytes up / link capacity)',
        value: Number((live.wireBytes / live.secs / LINK.bytesPerSecond).toFixed(2)),
        unit: 'x',
        baseline: Number((strict.wireBytes / strict.secs / LINK.bytesPerSecond).toFixed(2)),
        note: 'the backlog budget must not leave the link idle',
      },
    ];
    return rows;
  },
};

export default section;

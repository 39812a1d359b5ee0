/**
 * Saturation (issue 19): CPU per reading and disk bytes per reading when citygate is
 * offered more than it can carry, at the service's own V8 flags, beside the raw loop
 * (bench/workers/raw.ts: better-sqlite3 inserts + mqtt.js publishes, nothing else)
 * measured in the same run against the same Mosquitto, alternately, `reps` times.
 *
 * - citygate: a fresh gateway, a sim device of 200 points every 2 ms (100,000
 *   readings/s offered) → pipeline → buffer (FULL) → MqttUplink → the bench broker.
 *   Over the window: utime+stime of the gateway's process (/proc/self/stat) per
 *   reading the broker acknowledged, write_bytes (/proc/self/io) per reading committed.
 * - raw: live readings at the same offered rate, one row each, 100 per transaction
 *   (FULL), read 100 → one QoS 1 publish → delete on PUBACK.
 *
 * `BENCH_SAT_FLAGS=1` adds the V8 flag study (docs/performance.md): each candidate set
 * of flags at saturation and idle (RSS of the demo board), alternately.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchContext, BenchRow, BenchSection } from '../types.js';
import { startBroker } from '../lib/broker.js';
import { REPO, buildForChildren, runWorker } from '../lib/child.js';
import { MB } from '../lib/proc.js';
import { SERVICE_NODE_FLAGS } from '../../src/runtime/node-flags.js';

const T = { cpuUs: 5, rssIdleMB: 75 };
const POINTS = 200;
const POLL = '2ms';
const OFFERED = (POINTS * 1000) / 2;

interface Sat {
  ackedPerS: number;
  committedPerS: number;
  cpuShare: number;
  cpuUsPerReading: number;
  writeBytesPerReading: number;
  wcharPerReading: number;
  backlog?: number;
}
interface Idle {
  rssMedian: number;
}

const OLD = '--max-old-space-size=96';
const semi = (mb: number): string => `--max-semi-space-size=${mb}`;
/**
 * Candidate V8 flag sets for the study (the service's own first). The wider study
 * (docs/performance.md#v8-flags) also tried semi-spaces of 4 and 8 MB, `--no-opt` and
 * `--max-lazy`: every set with TurboFan idled at 89-99 MB.
 */
const CANDIDATES: { name: string; flags: readonly string[] }[] = [
  { name: 'service', flags: SERVICE_NODE_FLAGS },
  { name: 'semi 2, --no-turbofan', flags: [OLD, semi(2), '--no-turbofan'] },
  { name: 'semi 2, --no-turbofan --single-threaded-gc', flags: [OLD, semi(2), '--no-turbofan', '--single-threaded-gc'] },
  { name: 'semi 2, TurboFan', flags: [OLD, semi(2)] },
  { name: 'semi 4, TurboFan --single-threaded-gc', flags: [OLD, semi(4), '--single-threaded-gc'] },
];

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const fmt = (xs: number[], d = 1): string => xs.map((x) => x.toFixed(d)).join(', ');

async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const build = buildForChildren(ctx.tmpDir);
  const broker = await startBroker(ctx.tmpDir, ctx.log);
  const mqttArgs = { url: broker.url, protocolVersion: broker.protocolVersion };
  const quick = ctx.scale < 0.5;
  const ms = quick ? 3000 : 10_000;
  const warmMs = quick ? 1000 : 2000;
  const reps = quick ? 1 : Math.max(2, Math.round(3 * ctx.scale));
  const study = process.env.BENCH_SAT_FLAGS === '1';
  const candidates = study ? CANDIDATES : CANDIDATES.slice(0, 1);
  let n = 0;
  const dir = (name: string): string => {
    const d = join(ctx.tmpDir, `sat-${++n}-${name}`);
    mkdirSync(d, { recursive: true });
    return d;
  };
  const raw: Sat[] = [];
  const cg = new Map<string, Sat[]>(candidates.map((c) => [c.name, []]));
  const idle = new Map<string, number[]>(candidates.map((c) => [c.name, []]));
  try {
    for (let r = 0; r < reps; r++) {
      const rr = await runWorker<Sat>({
        worker: 'raw',
        build,
        args: { mode: 'saturate', dir: dir('raw'), sync: 'FULL', points: POINTS, n: 0, maxMs: ms, warmMs, offeredPerS: OFFERED, window: 32, ...mqttArgs },
        timeoutMs: ms + warmMs + 30_000,
      });
      raw.push(rr);
      ctx.log(`raw #${r + 1}: ${JSON.stringify(rr)}`);
      for (const c of candidates) {
        const s = await runWorker<Sat>({
          worker: 'citygate',
          build,
          nodeFlags: c.flags,
          args: { mode: 'saturate', dataDir: dir('cg'), points: POINTS, poll: POLL, ms, warmMs, ...mqttArgs },
          timeoutMs: ms + warmMs + 30_000,
        });
        cg.get(c.name)!.push(s);
        ctx.log(`citygate [${c.name}] #${r + 1}: ${JSON.stringify(s)}`);
        if (!study) continue;
        const i = await runWorker<Idle>({
          worker: 'citygate',
          build,
          nodeFlags: c.flags,
          args: { mode: 'idle', dataDir: dir('idle'), board: join(REPO, 'boards', 'demo.yaml'), warmMs: quick ? 2000 : 5000, ms: quick ? 1000 : 3000, ...mqttArgs },
          timeoutMs: 60_000,
        });
        idle.get(c.name)!.push(i.rssMedian / MB);
        ctx.log(`idle [${c.name}] #${r + 1}: ${(i.rssMedian / MB).toFixed(1)} MB`);
      }
    }
  } finally {
    await broker.stop();
  }

  const rawCpu = median(raw.map((x) => x.cpuUsPerReading));
  const rawDisk = median(raw.map((x) => x.writeBytesPerReading));
  const rows: BenchRow[] = [
    {
      name: 'saturation: raw loop CPU per reading',
      value: rawCpu,
      unit: 'µs/reading',
      note: `better-sqlite3 + mqtt.js only, ${OFFERED.toLocaleString('en-US')}/s offered, FULL; runs: ${fmt(raw.map((x) => x.cpuUsPerReading), 2)} µs at ${fmt(raw.map((x) => x.ackedPerS / 1000))} k acked/s, ${fmt(raw.map((x) => x.cpuShare * 100), 0)} % of a core; disk ${fmt(raw.map((x) => x.writeBytesPerReading))} B/reading; ${broker.label}`,
    },
  ];
  for (const c of candidates) {
    const xs = cg.get(c.name)!;
    const cpu = median(xs.map((x) => x.cpuUsPerReading));
    const disk = median(xs.map((x) => x.writeBytesPerReading));
    const service = c.name === 'service';
    rows.push({
      name: `saturation: citygate CPU per reading (${service ? 'service flags' : c.name})`,
      value: cpu,
      unit: 'µs/reading',
      baseline: rawCpu,
      ratio: cpu / rawCpu,
      ...(service ? { target: `<= ${T.cpuUs} µs`, ok: cpu <= T.cpuUs } : {}),
      note: `${c.flags.join(' ')}; sim ${POINTS} points every ${POLL}; runs: ${fmt(xs.map((x) => x.cpuUsPerReading), 2)} µs at ${fmt(xs.map((x) => x.ackedPerS / 1000))} k acked/s (committed ${fmt(xs.map((x) => x.committedPerS / 1000))} k/s), ${fmt(xs.map((x) => x.cpuShare * 100), 0)} % of a core; baseline: raw loop`,
    });
    if (service)
      rows.push({
        name: 'saturation: citygate disk written per reading',
        value: disk,
        unit: 'B/reading',
        baseline: rawDisk,
        ratio: disk / rawDisk,
        target: '<= 40 B',
        ok: disk <= 40,
        note: `write_bytes per committed reading over the window; runs: ${fmt(xs.map((x) => x.writeBytesPerReading))} B (wchar ${fmt(xs.map((x) => x.wcharPerReading))}); baseline: raw loop (one row per reading)`,
      });
    const rss = idle.get(c.name)!;
    if (rss.length)
      rows.push({
        name: `saturation: idle RSS (${service ? 'service flags' : c.name})`,
        value: median(rss),
        unit: 'MB',
        target: `<= ${T.rssIdleMB} MB`,
        ok: median(rss) <= T.rssIdleMB,
        note: `boards/demo.yaml, runs: ${fmt(rss)} MB`,
      });
  }
  return rows;
}

const section: BenchSection = { name: 'saturation', run };
export default section;

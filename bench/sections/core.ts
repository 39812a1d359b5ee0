/**
 * The issue-2 benchmarks: citygate's data path against a raw baseline measured in the
 * same run, against the same broker. See bench/README.md for what each row means.
 *
 * Every measurement runs in its own child process (bench/workers/*), so RSS and
 * /proc/self/io count only that measurement's work; citygate and the raw loop both run
 * from a plain-JS transpile of the sources (no tsx loader in the measured process).
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchContext, BenchRow, BenchSection } from '../types.js';
import { startBroker, type BenchBroker } from '../lib/broker.js';
import { REPO, buildForChildren, runWorker } from '../lib/child.js';
import { MB } from '../lib/proc.js';

/** Targets from issue 2 (and the street pole's from issue 19). */
const T = {
  poleMBPerDay: 50,
  ingestRatio: 0.5,
  drain: 150_000,
  e2eRatio: 0.6,
  e2eAbs: 100_000,
  rssIdleMB: 75,
  rssPeakMB: 128,
  diskPerPayload: 1,
};
/** Points of the sim device: ingest (offered 600k/s with a 1 ms poll) and end to end (50.1k/s with a 10 ms poll). */
const INGEST_POINTS = 600;
const E2E_POINTS = 501;
const E2E_POLL = '10ms';
const E2E_OFFERED = E2E_POINTS * 100;
const POLE_CYCLES_PER_DAY = 8640; // one cycle of 100 readings every 10 s

interface RawInsert {
  perS: number;
  readings: number;
  writeBytesPerReading: number;
  wcharPerReading: number;
  payloadPerReading: number;
}
interface RawLoop {
  window: number;
  drain: { readings: number; perS: number; complete: boolean };
  e2e: { perS: number; ingestPerS: number; backlog: number; backlogLeft: number; secs: number };
  hwm: number;
}
interface Pole {
  cycles: number;
  stalled?: string;
  writeBytesPerCycle: number;
  wcharPerCycle: number;
  payloadPerReading?: number;
}
interface Ingest {
  perS: number;
  readings: number;
  lost: number;
  dropped: number;
  storedBytesPerReading: number;
  writeBytesPerReading: number;
  wcharPerReading: number;
  payloadPerReading: number;
  hwm: number;
}
interface Drain {
  perS: number;
  acked: number;
  complete: boolean;
  secs: number;
  window: number;
  rssMax: number;
  hwm: number;
  atMax?: Record<string, number>;
}
interface E2e {
  perS: number;
  ingestPerS: number;
  backlogStart: number;
  backlogEnd: number;
  dropped: number;
  lost: number;
  secs: number;
  rssMax: number;
  hwm: number;
  atMax?: Record<string, number>;
}
interface Idle {
  rssMedian: number;
  rssMax: number;
  hwm: number;
  heapUsed: number;
  devices: number;
  acked: number;
}

const round = (n: number): number => Math.max(1, Math.round(n));

async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const s = ctx.scale;
  const quick = s < 0.5;
  const failed = (what: string, err: unknown): void => {
    ctx.log(`${what} FAILED: ${err instanceof Error ? err.message : String(err)}`);
    rows.push({ name: `core: FAILED (${what})`, value: Number.NaN, unit: '', ok: false, note: String(err instanceof Error ? err.message : err).slice(0, 400) });
  };
  async function step<R>(what: string, fn: () => Promise<R>): Promise<R | undefined> {
    ctx.log(`${what} …`);
    const t0 = Date.now();
    try {
      const r = await fn();
      ctx.log(`${what}: ${JSON.stringify(r)} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
      return r;
    } catch (err) {
      failed(what, err);
      return undefined;
    }
  }

  const build = buildForChildren(ctx.tmpDir);
  let dirN = 0;
  const dir = (name: string): string => {
    const d = join(ctx.tmpDir, `${++dirN}-${name}`);
    mkdirSync(d, { recursive: true });
    return d;
  };
  const broker: BenchBroker = await startBroker(ctx.tmpDir, ctx.log);
  ctx.log(`broker: ${broker.label}`);
  const mqttArgs = { url: broker.url, protocolVersion: broker.protocolVersion };
  const w = <R>(worker: string, args: Record<string, unknown>, timeoutMs: number, tsx = false): Promise<R> =>
    runWorker<R>({ worker, args, timeoutMs, ...(tsx ? {} : { build }) });

  const drainN = round(1_000_000 * s);
  const e2eBacklog = drainN;
  const e2eMs = Math.max(2000, 6000 * s);
  let rawFull: RawInsert | undefined, rawNormal: RawInsert | undefined, loopFull: RawLoop | undefined, loopNormal: RawLoop | undefined;
  let ingest: Ingest | undefined, drain: Drain | undefined, e2e: E2e | undefined, e2eNormal: E2e | undefined;
  let idleBuilt: Idle | undefined, idleTsx: Idle | undefined, rawPole: Pole | undefined, cgPole: Pole | undefined;
  try {
    // 1. raw baseline
    for (const sync of ['FULL', 'NORMAL'] as const) {
      const r = await step(`raw insert ${sync}`, () =>
        w<RawInsert>('raw', { mode: 'insert', dir: dir('raw-insert'), sync, points: 300, n: round(600_000 * s), maxMs: 10_000 }, 120_000),
      );
      if (sync === 'FULL') rawFull = r;
      else rawNormal = r;
    }
    const rawTemplate = join(dir('raw-template'), 'backlog.db');
    const haveRawTemplate = await step('raw backlog', () => w('raw', { mode: 'prefill', dir: ctx.tmpDir, template: rawTemplate, sync: 'OFF', points: 300, n: drainN, maxMs: 120_000 }, 180_000));
    for (const sync of ['FULL', 'NORMAL'] as const) {
      if (!haveRawTemplate) break;
      const r = await step(`raw loop ${sync}`, () =>
        w<RawLoop>(
          'raw',
          { mode: 'loop', dir: dir('raw-loop'), template: rawTemplate, sync, points: 300, n: drainN, maxMs: Math.max(5000, 20_000 * s), ...mqttArgs, window: 32, e2eBacklog, e2eMs, offeredPerS: E2E_OFFERED },
          180_000,
        ),
      );
      if (sync === 'FULL') loopFull = r;
      else loopNormal = r;
    }

    // 2. citygate sim → buffer, no broker
    ingest = await step('citygate ingest', () =>
      w<Ingest>('citygate', { mode: 'ingest', dataDir: dir('cg-ingest'), ...mqttArgs, points: INGEST_POINTS, ms: Math.max(2000, 5000 * s), warmMs: 500 }, 120_000),
    );

    // 3. drain of a backlog (written once, copied for each run)
    const cgTemplate = dir('cg-template');
    const haveCgTemplate = await step('citygate backlog', () => w('citygate', { mode: 'prefill', dataDir: cgTemplate, ...mqttArgs, n: drainN, points: 300 }, 180_000));
    const withBacklog = (name: string): string => {
      const d = dir(name);
      copyFileSync(join(cgTemplate, 'buffer.db'), join(d, 'buffer.db'));
      return d;
    };
    if (haveCgTemplate) drain = await step('citygate drain', () => w<Drain>('citygate', { mode: 'drain', dataDir: withBacklog('cg-drain'), ...mqttArgs, n: drainN, ms: 120_000 }, 180_000));

    // 4. end to end: backlog + live sim data
    for (const synchronous of ['full', 'normal'] as const) {
      if (!haveCgTemplate) break;
      const r = await step(`citygate e2e ${synchronous}`, () =>
        w<E2e>('citygate', { mode: 'e2e', dataDir: withBacklog('cg-e2e'), ...mqttArgs, synchronous, points: E2E_POINTS, poll: E2E_POLL, ms: e2eMs, warmMs: 300 }, 180_000),
      );
      if (synchronous === 'full') e2e = r;
      else e2eNormal = r;
    }

    // 5. RSS idle: the demo board's devices, built JS (as installed) and tsx (as in a checkout)
    const board = join(REPO, 'boards', 'demo.yaml');
    const idleArgs = { mode: 'idle', ...mqttArgs, board, warmMs: quick ? 2000 : 5000, ms: quick ? 1000 : 3000 };
    idleBuilt = await step('citygate idle (built)', () => w<Idle>('citygate', { ...idleArgs, dataDir: dir('cg-idle') }, 60_000));
    idleTsx = await step('citygate idle (tsx)', () => w<Idle>('citygate', { ...idleArgs, dataDir: dir('cg-idle-tsx') }, 60_000, true));

    // 6. street pole: bytes written per cycle of 100 readings
    const cycles = round(2000 * s);
    rawPole = await step('raw pole', () => w<Pole>('raw', { mode: 'pole', dir: dir('raw-pole'), sync: 'FULL', points: 100, n: cycles, maxMs: 60_000, ...mqttArgs }, 120_000));
    cgPole = await step('citygate pole', () => w<Pole>('citygate', { mode: 'pole', dataDir: dir('cg-pole'), ...mqttArgs, n: cycles, ms: 60_000 }, 120_000));
  } finally {
    await broker.stop();
  }

  // ---- rows ----
  const b = broker.kind === 'mosquitto' ? broker.label : `${broker.label} — NOT Mosquitto`;
  const rawCeiling = Math.max(rawFull?.perS ?? 0, rawNormal?.perS ?? 0) || undefined;
  if (rawFull) rows.push({ name: 'raw: insert, synchronous=FULL', value: rawFull.perS, unit: 'readings/s', note: `better-sqlite3, one row per reading, 100 per transaction, WAL; ${rawFull.readings} readings` });
  if (rawNormal) rows.push({ name: 'raw: insert, synchronous=NORMAL', value: rawNormal.perS, unit: 'readings/s' });
  if (rawFull)
    rows.push({
      name: 'raw: disk written per reading (FULL)',
      value: rawFull.writeBytesPerReading,
      unit: 'B/reading',
      baseline: rawFull.payloadPerReading,
      ratio: rawFull.writeBytesPerReading / rawFull.payloadPerReading,
      note: `/proc/self/io write_bytes incl. the closing checkpoint; baseline = JSON payload per reading; wchar ${rawFull.wcharPerReading.toFixed(0)} B/reading`,
    });
  for (const [sync, l] of [['FULL', loopFull], ['NORMAL', loopNormal]] as const) {
    if (!l) continue;
    rows.push({
      name: `raw: drain (${sync})`,
      value: l.drain.perS,
      unit: 'readings/s',
      note: `read 100 rows → 1 QoS 1 publish → DELETE on PUBACK, window ${l.window}; broker ${b}; backlog ${drainN.toLocaleString('en-US')}, ${l.drain.complete ? 'all drained' : `${l.drain.readings.toLocaleString('en-US')} drained before the time cap`}`,
    });
    rows.push({ name: `raw: end to end (${sync})`, value: l.e2e.perS, unit: 'readings/s', note: `backlog ${l.e2e.backlog.toLocaleString('en-US')} + live ${fmtK(E2E_OFFERED)}/s offered (inserted ${fmtK(l.e2e.ingestPerS)}/s), ${l.e2e.secs.toFixed(1)} s window; ${l.e2e.backlogLeft.toLocaleString('en-US')} left` });
  }
  if (ingest) {
    const base = rawCeiling;
    rows.push({
      name: 'citygate: sim → buffer ingest',
      value: ingest.perS,
      unit: 'readings/s',
      ...(base ? { baseline: base, ratio: ingest.perS / base, ok: ingest.perS >= T.ingestRatio * base } : {}),
      target: `>= ${T.ingestRatio}x raw ceiling`,
      note: `raw ceiling = best raw insert (NORMAL); vs raw FULL: ${rawFull ? (ingest.perS / rawFull.perS).toFixed(2) + '×' : '?'}; sim ${INGEST_POINTS} points @1ms, GroupCommitter+SqliteBuffer FULL, uplink offline; ${ingest.lost + ingest.dropped} lost/dropped`,
    });
    rows.push({
      name: 'citygate: disk written per reading (ingest)',
      value: ingest.writeBytesPerReading,
      unit: 'B/reading',
      baseline: ingest.payloadPerReading,
      ratio: ingest.writeBytesPerReading / ingest.payloadPerReading,
      target: `<= ${T.diskPerPayload}x payload`,
      ok: ingest.writeBytesPerReading <= T.diskPerPayload * ingest.payloadPerReading,
      note: `/proc/self/io write_bytes over the whole ingest process incl. closing checkpoint; baseline = JSON payload per reading; wchar ${ingest.wcharPerReading.toFixed(1)} B/reading; stored ${ingest.storedBytesPerReading.toFixed(1)} B/reading; raw loop: ${rawFull ? (rawFull.writeBytesPerReading / rawFull.payloadPerReading).toFixed(2) + '× payload' : '?'}`,
    });
  }
  if (drain)
    rows.push({
      name: `citygate: drain ${drain.acked.toLocaleString('en-US')} backlog`,
      value: drain.perS,
      unit: 'readings/s',
      ...(loopFull ? { baseline: loopFull.drain.perS, ratio: drain.perS / loopFull.drain.perS } : {}),
      target: `>= ${T.drain.toLocaleString('en-US')}/s`,
      ok: drain.perS >= T.drain && drain.complete,
      note: `MqttUplink, window ${drain.window}, baseline = raw drain (FULL)${drain.complete ? '' : '; DID NOT FINISH'}`,
    });
  if (e2e) {
    const base = loopFull?.e2e.perS;
    rows.push({
      name: 'citygate: end to end (FULL) vs raw',
      value: e2e.perS,
      unit: 'readings/s',
      ...(base ? { baseline: base, ratio: e2e.perS / base, ok: e2e.perS >= T.e2eRatio * base } : {}),
      target: `>= ${T.e2eRatio}x raw (FULL)`,
      note: `backlog ${e2e.backlogStart.toLocaleString('en-US')} + sim ${E2E_POINTS} points every ${E2E_POLL} live (ingested ${fmtK(e2e.ingestPerS)}/s); ${e2e.backlogEnd.toLocaleString('en-US')} left after ${e2e.secs.toFixed(1)} s; vs raw NORMAL: ${loopNormal ? (e2e.perS / loopNormal.e2e.perS).toFixed(2) + '×' : '?'}`,
    });
    rows.push({ name: 'citygate: end to end (FULL) absolute', value: e2e.perS, unit: 'readings/s', target: `>= ${T.e2eAbs.toLocaleString('en-US')}/s`, ok: e2e.perS >= T.e2eAbs });
  }
  if (e2eNormal) {
    const base = loopNormal?.e2e.perS;
    rows.push({
      name: 'citygate: end to end (NORMAL) vs raw',
      value: e2eNormal.perS,
      unit: 'readings/s',
      ...(base ? { baseline: base, ratio: e2eNormal.perS / base, ok: e2eNormal.perS >= T.e2eRatio * base } : {}),
      target: `>= ${T.e2eRatio}x raw (NORMAL)`,
      note: `buffer.synchronous: normal; ingested ${fmtK(e2eNormal.ingestPerS)}/s; ${e2eNormal.backlogEnd.toLocaleString('en-US')} of ${e2eNormal.backlogStart.toLocaleString('en-US')} left`,
    });
  }
  if (idleBuilt)
    rows.push({
      name: 'citygate: RSS idle (demo board)',
      value: idleBuilt.rssMedian / MB,
      unit: 'MB',
      target: `<= ${T.rssIdleMB} MB`,
      ok: idleBuilt.rssMedian / MB <= T.rssIdleMB,
      note: `${idleBuilt.devices} devices of boards/demo.yaml, status page on, own process, plain JS (as installed); median of samples, max ${fmtMB(idleBuilt.rssMax)}, heap ${fmtMB(idleBuilt.heapUsed)}; Node-RED idles at ~99 MB`,
    });
  if (idleTsx)
    rows.push({ name: 'citygate: RSS idle (demo board, via tsx)', value: idleTsx.rssMedian / MB, unit: 'MB', note: 'the same, run from a checkout through the tsx loader (npx citygate): loader overhead included' });
  const peaks = [drain?.hwm, e2e?.hwm, e2eNormal?.hwm].filter((x): x is number => x !== undefined);
  if (peaks.length) {
    const peak = Math.max(...peaks);
    rows.push({
      name: 'citygate: RSS peak (drain, end to end)',
      value: peak / MB,
      unit: 'MB',
      target: `<= ${T.rssPeakMB} MB`,
      ok: peak / MB <= T.rssPeakMB,
      note: `VmHWM of the drain / end-to-end processes: drain ${fmtMB(drain?.hwm)}, e2e FULL ${fmtMB(e2e?.hwm)}, e2e NORMAL ${fmtMB(e2eNormal?.hwm)}; raw loop ${fmtMB(loopFull?.hwm)}; memoryUsage (MB) at the e2e FULL peak ${JSON.stringify(e2e?.atMax ?? {})}, drain ${JSON.stringify(drain?.atMax ?? {})}`,
    });
  }
  if (cgPole)
    rows.push({
      name: 'citygate: delivers after the buffer empties',
      value: cgPole.stalled ? 0 : 1,
      unit: cgPole.stalled ? 'no' : 'yes',
      target: 'yes',
      ok: !cgPole.stalled,
      ...(cgPole.stalled
        ? {
            note: `STALL: ${cgPole.stalled}. batches.id is a rowid without AUTOINCREMENT: once every row is acked and deleted the next row reuses id 1, which is <= MqttUplink's cursor, so it waits for the next reconnect (and is then sent out of order). The pole figures below rewind the cursor when the buffer is empty, as a fix would.`,
          }
        : {}),
    });
  if (cgPole) {
    const perDay = cgPole.writeBytesPerCycle * POLE_CYCLES_PER_DAY;
    const rawDay = rawPole ? rawPole.writeBytesPerCycle * POLE_CYCLES_PER_DAY : undefined;
    rows.push({
      name: 'citygate: disk written per day, street pole',
      value: perDay / MB,
      unit: 'MB/day',
      ...(rawDay ? { baseline: rawDay / MB, ratio: perDay / rawDay } : {}),
      target: `<= ${T.poleMBPerDay} MB/day`,
      ok: perDay / MB <= T.poleMBPerDay,
      note: `100 points every 10 s = ${POLE_CYCLES_PER_DAY} cycles/day of (commit 100, publish, PUBACK, delete); ${cgPole.cycles} cycles measured: ${fmt0(cgPole.writeBytesPerCycle)} B/cycle write_bytes (${fmt0(cgPole.writeBytesPerCycle / 100)} B/reading), wchar ${fmt0(cgPole.wcharPerCycle)} B/cycle; baseline = raw loop (FULL, ${fmt0(rawPole?.writeBytesPerCycle)} B/cycle)`,
    });
    if (rawPole?.payloadPerReading)
      rows.push({
        name: 'citygate: disk written per reading, street pole',
        value: cgPole.writeBytesPerCycle / 100,
        unit: 'B/reading',
        baseline: rawPole.payloadPerReading,
        ratio: cgPole.writeBytesPerCycle / 100 / rawPole.payloadPerReading,
        target: `<= ${T.diskPerPayload}x payload (info)`,
        note: 'at 100 readings per commit one WAL frame per commit dominates: see docs/performance.md',
      });
  }
  return rows;
}

function fmtK(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}
function fmt0(n: number | undefined): string {
  return n === undefined ? '?' : Math.round(n).toLocaleString('en-US');
}
function fmtMB(n: number | undefined): string {
  return n === undefined ? '?' : `${(n / MB).toFixed(1)} MB`;
}

const section: BenchSection = { name: 'core', run };
export default section;

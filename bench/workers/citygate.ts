/**
 * citygate doing the raw loop's work through its real runtime (Gateway: sim driver →
 * pipeline → GroupCommitter → SqliteBuffer → MqttUplink), one measurement per process.
 *
 * Modes:
 * - prefill: commit a backlog of `n` readings into a data dir (not timed; own process
 *            so the drain process's peak RSS is the drain's own);
 * - ingest:  sim → buffer with no broker: readings committed per second, bytes written
 *            to disk per reading (/proc/self/io) vs the JSON payload of a reading;
 * - drain:   a gateway with no devices delivers the prefilled backlog: readings/s;
 * - e2e:     a prefilled backlog plus a sim device producing live: readings acked/s;
 * - idle:    boards/demo.yaml's devices against the broker: RSS;
 * - pole:    N cycles of (commit 100 readings, publish, PUBACK, apply the ack): bytes
 *            written per cycle.
 * - saturate: a fresh gateway with a sim device offering more than it can carry: CPU
 *            (utime+stime from /proc) per acknowledged reading, disk bytes per committed
 *            reading, readings acknowledged per second.
 */
import { join } from 'node:path';
import { loadConfigFile } from '../../src/config/load.js';
import { systemClock } from '../../src/core/clock.js';
import { SqliteBuffer } from '../../src/buffer/sqlite-buffer.js';
import { Gateway } from '../../src/runtime/gateway.js';
import { benchConfig, benchSimDevice } from '../lib/config.js';
import { freePort } from '../lib/broker.js';
import { RssSampler, cpuSeconds, ioDelta, memStatus, readProcIo } from '../lib/proc.js';
import { DEVICE, benchReading } from '../lib/readings.js';
import { sleep, waitFor, workerMain } from '../lib/worker.js';

interface Args {
  mode: 'prefill' | 'ingest' | 'drain' | 'e2e' | 'idle' | 'pole' | 'saturate';
  dataDir: string;
  url: string;
  protocolVersion: 4 | 5;
  synchronous?: 'full' | 'normal';
  n?: number;
  points?: number;
  poll?: string;
  ms?: number;
  warmMs?: number;
  board?: string;
}

async function prefill(a: Args) {
  const cfg = benchConfig({ url: a.url, protocolVersion: a.protocolVersion, dataDir: a.dataDir });
  const buf = new SqliteBuffer({
    dataDir: a.dataDir,
    maxBytes: cfg.buffer.max_bytes,
    maxAgeMs: cfg.buffer.max_age,
    onFull: cfg.buffer.on_full,
    synchronous: 'normal',
    maxReadingsPerRow: cfg.uplink.batch.max_readings,
    clock: systemClock,
  });
  const n = a.n ?? 0;
  const t0 = Date.now();
  for (let i = 0; i < n; i += 5000) {
    const chunk = [];
    for (let k = i; k < Math.min(i + 5000, n); k++) chunk.push(benchReading(k, t0, a.points ?? 300, 1));
    buf.commit(chunk);
  }
  const s = buf.stats();
  buf.close();
  return { readings: s.readings, bytes: s.bytes, dropped: s.droppedTotal };
}

async function started(a: Args, devices: unknown[]): Promise<Gateway> {
  const gw = new Gateway(benchConfig({ url: a.url, protocolVersion: a.protocolVersion, dataDir: a.dataDir, devices, synchronous: a.synchronous }));
  await gw.start();
  return gw;
}

async function online(gw: Gateway): Promise<void> {
  if (!(await waitFor(() => gw.uplink.stats().state === 'online', 10_000))) throw new Error(`uplink not online: ${gw.uplink.stats().lastError ?? '?'}`);
}

async function ingest(a: Args) {
  // No broker: the uplink points at a closed port and stays offline.
  const io0 = readProcIo();
  const gw = await started({ ...a, url: `mqtt://127.0.0.1:${await freePort()}` }, [benchSimDevice(a.points ?? 600)]);
  await sleep(a.warmMs ?? 500);
  const seq0 = gw.buffer.stats().nextSeq;
  const t0 = performance.now();
  await sleep(a.ms ?? 5000);
  await Promise.all(gw.devices.map((d) => d.supervisor.stop()));
  gw.committer.flush();
  const secs = (performance.now() - t0) / 1000;
  const seq1 = gw.buffer.stats().nextSeq;
  // The JSON a reading takes in a published data message, from the stored rows.
  let json = 0;
  let counted = 0;
  for (const row of gw.buffer.read(0, 200)) {
    json += Buffer.byteLength(row.json) + 1 + 60 / row.count; // + separator + its share of the message wrapper
    counted += row.count;
  }
  const total = seq1 - 1;
  const lost = gw.committer.lostToFailure;
  const stats = gw.buffer.stats();
  await gw.stop(); // closing checkpoints the WAL: part of what a reading costs on disk
  const io = ioDelta(io0, readProcIo());
  return {
    perS: (seq1 - seq0) / secs,
    readings: total,
    lost,
    dropped: stats.droppedTotal,
    storedBytesPerReading: stats.bytes / Math.max(1, stats.readings),
    writeBytesPerReading: io.write_bytes / total,
    wcharPerReading: io.wchar / total,
    payloadPerReading: json / Math.max(1, counted),
    hwm: memStatus().hwm,
  };
}

async function drain(a: Args) {
  const rss = new RssSampler().start(100);
  const gw = await started(a, []);
  const n = a.n ?? 0;
  const t0 = performance.now();
  await online(gw);
  const done = await waitFor(() => gw.uplink.stats().ackedReadings >= n, a.ms ?? 120_000, 2);
  const secs = (performance.now() - t0) / 1000;
  const acked = gw.uplink.stats().ackedReadings;
  const window = gw.uplink.stats().window;
  rss.stop();
  await gw.stop();
  return { perS: acked / secs, acked, complete: done, secs, window, rssMax: rss.max, hwm: memStatus().hwm, atMax: rss.atMax };
}

async function e2e(a: Args) {
  const rss = new RssSampler().start(100);
  const gw = await started(a, [benchSimDevice(a.points ?? 501, a.poll ?? '10ms')]);
  await online(gw);
  await sleep(a.warmMs ?? 300);
  const b0 = gw.buffer.stats();
  const acked0 = gw.uplink.stats().ackedReadings;
  const t0 = performance.now();
  await sleep(a.ms ?? 8000);
  const secs = (performance.now() - t0) / 1000;
  const acked1 = gw.uplink.stats().ackedReadings;
  const b1 = gw.buffer.stats();
  rss.stop();
  await Promise.all(gw.devices.map((d) => d.supervisor.stop()));
  await gw.stop();
  return {
    perS: (acked1 - acked0) / secs,
    ingestPerS: (b1.nextSeq - b0.nextSeq) / secs,
    backlogStart: b0.readings,
    backlogEnd: b1.readings,
    dropped: b1.droppedTotal,
    lost: gw.committer.lostToFailure,
    secs,
    rssMax: rss.max,
    hwm: memStatus().hwm,
    atMax: rss.atMax,
  };
}

async function idle(a: Args) {
  if (!a.board) throw new Error('idle needs board');
  const { config } = loadConfigFile(a.board, { missingEnv: 'warn' });
  config.gateway.data_dir = a.dataDir;
  config.uplink.url = a.url;
  if (config.health.http !== false) config.health.http = `127.0.0.1:${await freePort()}`;
  const gw = new Gateway(config);
  await gw.start();
  await online(gw);
  await sleep(a.warmMs ?? 5000);
  const rss = new RssSampler().start(200);
  await sleep(a.ms ?? 3000);
  rss.stop();
  const acked = gw.uplink.stats().ackedReadings;
  const sorted = [...rss.samples].sort((x, y) => x - y);
  const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
  const heap = process.memoryUsage().heapUsed;
  await gw.stop();
  return { rssMedian: median, rssMax: rss.max, hwm: memStatus().hwm, heapUsed: heap, devices: config.devices.length, acked };
}

async function pole(a: Args) {
  const gw = await started(a, []);
  await online(gw);
  await waitFor(() => gw.buffer.stats().pendingEvents === 0, 5000);
  const t0 = Date.now();
  const n = a.n ?? 1000;
  const io0 = readProcIo();
  const start = performance.now();
  let cycles = 0;
  let stalled: string | undefined;
  while (cycles < n && performance.now() - start < (a.ms ?? 60_000)) {
    const before = gw.uplink.stats().ackedReadings;
    for (let p = 0; p < 100; p++) gw.committer.add(benchReading(cycles * 100 + p, t0, 100, 10_000, DEVICE));
    gw.committer.flush(); // what the group-commit timer does 100 ms later
    const acked = (ms: number): Promise<boolean> => waitFor(() => gw.uplink.stats().ackedReadings >= before + 100, ms, 0);
    // A stall here was the row-id reuse bug (ids are now first seqs, never reused): report it.
    if (!stalled && !(await acked(3000))) {
      stalled = `cycle ${cycles}: committed readings not published within 3 s while online (${JSON.stringify(gw.buffer.stats())})`;
    }
    if (!(await acked(10_000)))
      throw new Error(`cycle ${cycles}: no PUBACK within 10 s: ${JSON.stringify({ uplink: gw.uplink.stats(), buffer: gw.buffer.stats() })}`);
    // No flushAcks here: the acknowledged rows are deleted inside the next cycle's
    // commit (one transaction per cycle), as in the service (ack timer 30 s > 10 s cycle).
    cycles++;
  }
  const secs = (performance.now() - start) / 1000;
  await gw.stop();
  const io = ioDelta(io0, readProcIo());
  return { cycles, secs, writeBytesPerCycle: io.write_bytes / cycles, wcharPerCycle: io.wchar / cycles, stalled };
}

async function saturate(a: Args) {
  const gw = await started(a, [benchSimDevice(a.points ?? 200, a.poll ?? '2ms')]);
  await online(gw);
  await sleep(a.warmMs ?? 2000);
  const [cpu0, io0, acked0, seq0] = [cpuSeconds(), readProcIo(), gw.uplink.stats().ackedReadings, gw.buffer.stats().nextSeq];
  const t0 = performance.now();
  await sleep(a.ms ?? 10_000);
  const [cpu1, io1, acked1, seq1] = [cpuSeconds(), readProcIo(), gw.uplink.stats().ackedReadings, gw.buffer.stats().nextSeq];
  const secs = (performance.now() - t0) / 1000;
  const backlog = gw.buffer.stats().readings;
  await Promise.all(gw.devices.map((d) => d.supervisor.stop()));
  await gw.stop();
  const acked = acked1 - acked0;
  const committed = seq1 - seq0;
  const io = ioDelta(io0, io1);
  return {
    ackedPerS: acked / secs,
    committedPerS: committed / secs,
    cpuShare: (cpu1 - cpu0) / secs,
    cpuUsPerReading: ((cpu1 - cpu0) * 1e6) / Math.max(1, acked),
    writeBytesPerReading: io.write_bytes / Math.max(1, committed),
    wcharPerReading: io.wchar / Math.max(1, committed),
    backlog,
    secs,
    hwm: memStatus().hwm,
  };
}

workerMain<Args, unknown>(async (a) => {
  a.dataDir = a.dataDir ?? join(process.cwd(), 'bench-data');
  switch (a.mode) {
    case 'prefill':
      return prefill(a);
    case 'ingest':
      return ingest(a);
    case 'drain':
      return drain(a);
    case 'e2e':
      return e2e(a);
    case 'idle':
      return idle(a);
    case 'pole':
      return pole(a);
    case 'saturate':
      return saturate(a);
  }
});

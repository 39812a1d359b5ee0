/**
 * The raw baseline: a minimal hand-written loop with the same libraries citygate uses,
 * and nothing else. One row per reading (better-sqlite3, WAL, batches of 100 per
 * transaction), read 100 rows → one QoS 1 publish (mqtt.js) with a bounded in-flight
 * window → delete those rows on PUBACK.
 *
 * Modes:
 * - insert: batched inserts as fast as possible; readings/s and bytes written per reading.
 * - loop:   drain of a backlog (readings/s), then end to end: a backlog plus live
 *           readings arriving at `offeredPerS`, readings acknowledged per second.
 * - pole:   N cycles of (insert 100, publish, delete on PUBACK): bytes written per cycle.
 * - saturate: live readings only (no backlog) offered at `offeredPerS`, inserted and
 *           published as fast as they go: CPU per acknowledged reading, disk bytes per
 *           inserted reading.
 */
import Database from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpuSeconds, ioDelta, memStatus, readProcIo } from '../lib/proc.js';
import { DEVICE, benchReading, bodyJson } from '../lib/readings.js';
import { waitFor, workerMain } from '../lib/worker.js';

type Sync = 'FULL' | 'NORMAL' | 'OFF';

interface Args {
  mode: 'insert' | 'prefill' | 'loop' | 'pole' | 'saturate';
  /** loop: a database written by prefill, copied before use. */
  template?: string;
  dir: string;
  sync: Sync;
  points: number;
  /** insert: readings; loop: drain backlog; pole: cycles. */
  n: number;
  maxMs: number;
  url?: string;
  protocolVersion?: 4 | 5;
  window?: number;
  e2eBacklog?: number;
  e2eMs?: number;
  offeredPerS?: number;
  warmMs?: number;
}

const BATCH = 100;

function openDb(file: string, sync: Sync) {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${sync}`);
  db.exec('CREATE TABLE IF NOT EXISTS readings (seq INTEGER PRIMARY KEY, device TEXT NOT NULL, body TEXT NOT NULL)');
  const ins = db.prepare('INSERT INTO readings (seq, device, body) VALUES (?, ?, ?)');
  const t0 = Date.now();
  let payloadBytes = 0;
  /** Inserts readings [from, from + count) in transactions of `per` rows. */
  const insertRange = (from: number, count: number, points: number, per = BATCH): void => {
    const tx = db.transaction((a: number, b: number) => {
      for (let i = a; i < b; i++) {
        const body = bodyJson(benchReading(i, t0, points, 1), i + 1);
        payloadBytes += body.length + 1;
        ins.run(i + 1, DEVICE, body);
      }
    });
    for (let a = from; a < from + count; a += per) tx(a, Math.min(a + per, from + count));
  };
  return { db, insertRange, payloadBytes: () => payloadBytes };
}

async function insertMode(a: Args) {
  const { db, insertRange, payloadBytes } = openDb(join(a.dir, `raw-insert-${a.sync}.db`), a.sync);
  const io0 = readProcIo();
  const start = performance.now();
  let n = 0;
  while (n < a.n && performance.now() - start < a.maxMs) {
    const k = Math.min(BATCH * 10, a.n - n);
    insertRange(n, k, a.points);
    n += k;
  }
  const secs = (performance.now() - start) / 1000;
  db.close(); // the final checkpoint is part of what a reading costs on disk
  const io = ioDelta(io0, readProcIo());
  return { readings: n, perS: n / secs, writeBytesPerReading: io.write_bytes / n, wcharPerReading: io.wchar / n, payloadPerReading: payloadBytes() / n };
}

function connect(url: string, protocolVersion: 4 | 5): Promise<{ client: MqttClient; receiveMaximum: number }> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, { protocolVersion, clean: true, reconnectPeriod: 0, queueQoSZero: false, clientId: `raw-${process.pid}` });
    client.once('connect', (ack) => resolve({ client, receiveMaximum: ack.properties?.receiveMaximum ?? 65_535 }));
    client.once('error', reject);
  });
}

/** Reads 100 rows after the cursor, publishes them as one message, deletes them on PUBACK. */
class Publisher {
  cursor = 0;
  inflight = 0;
  acked = 0;
  stopped = false;
  failed: Error | undefined;
  private readonly read;
  private readonly del;
  constructor(
    db: Database.Database,
    private readonly client: MqttClient,
    private readonly window: number,
  ) {
    this.read = db.prepare('SELECT seq, body FROM readings WHERE seq > ? ORDER BY seq LIMIT ?');
    this.del = db.prepare('DELETE FROM readings WHERE seq BETWEEN ? AND ?');
  }
  pump(): void {
    while (!this.stopped && this.inflight < this.window) {
      const rows = this.read.all(this.cursor, BATCH) as { seq: number; body: string }[];
      const first = rows[0];
      const last = rows[rows.length - 1];
      if (!first || !last) return;
      this.cursor = last.seq;
      const payload = `{"gateway":"raw-gw","device":"${DEVICE}","readings":[${rows.map((r) => r.body).join(',')}]}`;
      this.inflight++;
      this.client.publish(`raw/raw-gw/data/${DEVICE}`, payload, { qos: 1 }, (err) => {
        this.inflight--;
        if (err) {
          this.failed = err;
          return;
        }
        this.del.run(first.seq, last.seq);
        this.acked += rows.length;
        this.pump();
      });
    }
  }
}

async function loopMode(a: Args) {
  if (!a.url || !a.protocolVersion) throw new Error('loop needs url and protocolVersion');
  const { client, receiveMaximum } = await connect(a.url, a.protocolVersion);
  const window = Math.min(a.window ?? 32, receiveMaximum);

  // 1. drain: a backlog of a.n readings, inserted beforehand (not timed), stopped after maxMs.
  const file = join(a.dir, `raw-loop-${a.sync}.db`);
  let next: number;
  if (a.template) {
    copyFileSync(a.template, file);
    next = a.n;
  } else {
    const p = openDb(file, 'OFF');
    p.insertRange(0, a.n, a.points, 5000);
    p.db.close();
    next = a.n;
  }
  const e = openDb(file, a.sync);
  const pub = new Publisher(e.db, client, window);
  const t0 = performance.now();
  pub.pump();
  const drained = await waitFor(() => pub.acked >= a.n || pub.failed !== undefined, a.maxMs, 2);
  const drainSecs = (performance.now() - t0) / 1000;
  const drainAcked = pub.acked;
  pub.stopped = true;
  if (pub.failed) throw pub.failed;
  await waitFor(() => pub.inflight === 0, 5000);
  const drain = { readings: drainAcked, perS: drainAcked / drainSecs, complete: drained, secs: drainSecs };

  // 2. end to end on what is left, topped up to e2eBacklog, plus live readings at offeredPerS.
  const left0 = (e.db.prepare('SELECT count(*) AS n FROM readings').get() as { n: number }).n;
  const backlog = Math.max(left0, a.e2eBacklog ?? 0);
  if (left0 < backlog) {
    e.db.pragma('synchronous = OFF');
    e.insertRange(next, backlog - left0, a.points, 5000);
    e.db.pragma(`synchronous = ${a.sync}`);
    next += backlog - left0;
  }
  const live = new Publisher(e.db, client, window);
  const offered = a.offeredPerS ?? 100_000;
  const first = next;
  const start = performance.now();
  const producer = pacedProducer(e, a.points, offered, first, () => live.pump());
  live.pump();
  const ms = a.e2eMs ?? 8000;
  await waitFor(() => live.failed !== undefined, ms, 50);
  const secs = (performance.now() - start) / 1000;
  const acked = live.acked;
  const produced = producer.stop();
  live.stopped = true;
  if (live.failed) throw live.failed;
  await waitFor(() => live.inflight === 0, 5000);
  const left = (e.db.prepare('SELECT count(*) AS n FROM readings').get() as { n: number }).n;
  client.end(true);
  e.db.close();
  return {
    window,
    drain,
    e2e: { perS: acked / secs, ingestPerS: (produced - first) / secs, backlog, backlogLeft: left, secs },
    hwm: memStatus().hwm,
  };
}

async function poleMode(a: Args) {
  if (!a.url || !a.protocolVersion) throw new Error('pole needs url and protocolVersion');
  const { client } = await connect(a.url, a.protocolVersion);
  const { db, payloadBytes } = openDb(join(a.dir, `raw-pole-${a.sync}.db`), a.sync);
  const ins = db.prepare('INSERT INTO readings (seq, device, body) VALUES (?, ?, ?)');
  const del = db.prepare('DELETE FROM readings WHERE seq BETWEEN ? AND ?');
  const tx = db.transaction((bodies: string[], first: number) => bodies.forEach((b, k) => ins.run(first + k, DEVICE, b)));
  const t0 = Date.now();
  let payload = 0;
  const io0 = readProcIo();
  const start = performance.now();
  let cycles = 0;
  let seq = 1;
  while (cycles < a.n && performance.now() - start < a.maxMs) {
    const bodies: string[] = [];
    for (let p = 0; p < 100; p++) bodies.push(bodyJson(benchReading(cycles * 100 + p, t0, 100, 10_000), seq + p));
    payload += bodies.reduce((s, b) => s + b.length + 1, 0);
    tx(bodies, seq);
    const msg = `{"gateway":"raw-gw","device":"${DEVICE}","readings":[${bodies.join(',')}]}`;
    await new Promise<void>((resolve, reject) => client.publish(`raw/raw-gw/data/${DEVICE}`, msg, { qos: 1 }, (err) => (err ? reject(err) : resolve())));
    del.run(seq, seq + 99);
    seq += 100;
    cycles++;
  }
  client.end(true);
  db.close();
  const io = ioDelta(io0, readProcIo());
  void payloadBytes;
  return { cycles, writeBytesPerCycle: io.write_bytes / cycles, wcharPerCycle: io.wchar / cycles, payloadPerReading: payload / (cycles * 100) };
}

/**
 * Inserts readings from seq `first` on at `offered` per second, paced by the clock, at most
 * 10 transactions per tick so the publisher gets its turn; `pump` after each insert.
 */
function pacedProducer(e: ReturnType<typeof openDb>, points: number, offered: number, first: number, pump: () => void): { readonly produced: number; stop(): number } {
  let produced = first;
  let stopped = false;
  const start = performance.now();
  const produce = (): void => {
    if (stopped) return;
    const due = first + Math.floor(((performance.now() - start) * offered) / 1000);
    const n = Math.min(due - produced, BATCH * 10);
    if (n > 0) {
      e.insertRange(produced, n, points);
      produced += n;
      pump();
    }
    setTimeout(produce, 1);
  };
  produce();
  return {
    get produced() {
      return produced;
    },
    stop() {
      stopped = true;
      return produced;
    },
  };
}

async function saturateMode(a: Args) {
  if (!a.url || !a.protocolVersion) throw new Error('saturate needs url and protocolVersion');
  const { client, receiveMaximum } = await connect(a.url, a.protocolVersion);
  const e = openDb(join(a.dir, `raw-saturate-${a.sync}.db`), a.sync);
  const pub = new Publisher(e.db, client, Math.min(a.window ?? 32, receiveMaximum));
  const offered = a.offeredPerS ?? 100_000;
  const producer = pacedProducer(e, a.points, offered, 0, () => pub.pump());
  const warm = a.warmMs ?? 2000;
  await waitFor(() => pub.failed !== undefined, warm, 50);
  const [cpu0, io0, acked0, prod0] = [cpuSeconds(), readProcIo(), pub.acked, producer.produced];
  const t0 = performance.now();
  await waitFor(() => pub.failed !== undefined, a.maxMs, 50);
  const [cpu1, io1, acked1, prod1] = [cpuSeconds(), readProcIo(), pub.acked, producer.produced];
  const secs = (performance.now() - t0) / 1000;
  producer.stop();
  pub.stopped = true;
  if (pub.failed) throw pub.failed;
  await waitFor(() => pub.inflight === 0, 5000);
  client.end(true);
  e.db.close();
  const io = ioDelta(io0, io1);
  return {
    ackedPerS: (acked1 - acked0) / secs,
    committedPerS: (prod1 - prod0) / secs,
    cpuShare: (cpu1 - cpu0) / secs,
    cpuUsPerReading: ((cpu1 - cpu0) * 1e6) / Math.max(1, acked1 - acked0),
    writeBytesPerReading: io.write_bytes / Math.max(1, prod1 - prod0),
    wcharPerReading: io.wchar / Math.max(1, prod1 - prod0),
    secs,
  };
}

/** A backlog database for the loop to copy: a.n rows, written without fsync. */
async function prefillMode(a: Args) {
  if (!a.template) throw new Error('prefill needs template');
  const p = openDb(a.template, 'OFF');
  p.insertRange(0, a.n, a.points, 5000);
  p.db.close();
  return { readings: a.n };
}

workerMain<Args, unknown>(async (a) => {
  if (a.mode === 'insert') return insertMode(a);
  if (a.mode === 'prefill') return prefillMode(a);
  if (a.mode === 'loop') return loopMode(a);
  if (a.mode === 'saturate') return saturateMode(a);
  return poleMode(a);
});

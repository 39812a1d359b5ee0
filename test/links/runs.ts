/**
 * The link measurements, from outside: a real gateway (`citygate run`, child process in
 * the gateway namespace, default uplink settings), Mosquitto with TLS behind a shaped
 * link, a subscriber on an unshaped path. Each run uses its own gateway id and data dir.
 *
 * - `runProfile`: steady state on a profile: readings/s delivered, live latency
 *   p50/p99 (reading ts → arrival at the subscriber), bytes on the wire per reading.
 * - `runRecovery`: the link black-holed for N s, then back: time from restore to the
 *   first fresh reading delivered, and to the backlog drained.
 * - `runBacklog`: a backlog built with the link down, then 2G restored: live latency
 *   while the backlog drains.
 * Every run ends by opening the link fully and waiting until every seq up to the newest
 * delivered one is delivered or announced lost (`nothingLost`).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ChildGateway } from '../helpers/child-gateway.js';
import { makeTestCerts, type TestCerts } from '../helpers/certs.js';
import { tempDir } from '../helpers/gateway-config.js';
import { LinkLab } from '../helpers/netns.js';
import { LabBroker, TLS_PORT } from './broker.js';
import { meterDevice, type LinkProfile } from './profiles.js';
import { Feed, percentile, type Tracker } from './tracker.js';

const READINGS_PER_SECOND = 100;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(pred: () => boolean, ms: number, what: string, step = 100): Promise<number> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out after ${Math.round(ms / 1000)} s waiting for ${what}`);
    await sleep(step);
  }
  return Date.now();
}

export interface Wire {
  up: number;
  down: number;
}

export interface ProfileResult {
  profile: string;
  seconds: number;
  delivered: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  pending: number;
  bytesPerReading: number;
  wire: Wire;
  duplicates: number;
  gaps: number;
}

export interface RecoveryResult {
  outageS: number;
  /** Restore → the first reading of any age delivered (the uplink is back). */
  firstDeliveryS: number;
  /** Restore → the first reading taken after the restore delivered. */
  firstFreshS: number;
  drainedS: number;
  backlog: number;
  gaps: number;
}

export interface BacklogResult {
  backlog: number;
  fillS: number;
  windowS: number;
  liveDelivered: number;
  livePending: number;
  liveP50Ms: number;
  liveP99Ms: number;
  backlogDeliveredInWindow: number;
  drainedS: number | undefined;
  gaps: number;
}

/** Lab, certificates, broker and subscriber shared by every run of a test file. */
export class LinkRig {
  private constructor(
    readonly lab: LinkLab,
    readonly certs: TestCerts,
    readonly broker: LabBroker,
    readonly feed: Feed,
  ) {}

  static async create(): Promise<LinkRig> {
    const lab = await LinkLab.create();
    try {
      const certs = makeTestCerts();
      const broker = new LabBroker(lab, certs);
      await broker.start();
      const feed = new Feed();
      await feed.connect(broker.subscriberUrl);
      return new LinkRig(lab, certs, broker, feed);
    } catch (err) {
      await lab.destroy();
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.feed.close();
    await this.broker.stop();
    await this.lab.destroy();
    rmSync(this.certs.dir, { recursive: true, force: true });
  }

  /** A gateway config: defaults everywhere but the broker, TLS and the device. */
  config(id: string, dataDir: string, device: Record<string, unknown>): Record<string, unknown> {
    mkdirSync(dataDir, { recursive: true });
    return {
      gateway: { id, data_dir: dataDir },
      uplink: {
        url: this.broker.gatewayUrl,
        // The server certificate names localhost/127.0.0.1: verify it against that name.
        tls: { ca: this.certs.ca, cert: this.certs.clientCert, key: this.certs.clientKey, servername: 'localhost' },
      },
      health: { http: false },
      devices: [device],
    };
  }

  startGateway(dir: string, config: Record<string, unknown>): ChildGateway {
    mkdirSync(dir, { recursive: true });
    const gw = new ChildGateway(dir, config);
    gw.start({ wrap: this.lab.inGateway([]), logLevel: 'info' });
    return gw;
  }

  wire(): Wire {
    const c = this.lab.counters();
    return { up: c.tx, down: c.rx };
  }

  /** Open the link fully, wait until nothing is missing up to a reading taken after now. */
  async nothingLost(t: Tracker, gw: ChildGateway, ms: number): Promise<number> {
    await this.lab.shape({});
    const from = Date.now();
    try {
      await until(() => t.collector.max > 0 && (t.arrivals.get(t.collector.max)?.ts ?? 0) > from && t.prefix() >= t.collector.max, ms, `${t.gatewayId}: every seq delivered (prefix ${t.prefix()}, max ${t.collector.max})`, 250);
    } catch (err) {
      throw new Error(`${(err as Error).message}\ngateway output:\n${gw.output.slice(-3000)}`);
    }
    return t.gaps().length;
  }
}

/**
 * TCP connect time from the gateway namespace to the broker's TLS port, in ms (the
 * median of `n`): one round trip through the shaper, to check that it shapes.
 */
export function connectMs(rig: LinkRig, n = 5): number {
  const script = [
    'import socket, time, statistics',
    'v = []',
    `for _ in range(${n}):`,
    '    t = time.monotonic()',
    `    s = socket.create_connection(('${rig.lab.brIp}', ${TLS_PORT}), timeout=10)`,
    '    v.append((time.monotonic() - t) * 1000)',
    '    s.close()',
    'print(statistics.median(v))',
  ].join('\n');
  const [cmd, ...args] = rig.lab.inGateway(['/usr/bin/python3', '-c', script]) as [string, ...string[]];
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`connect probe failed: ${r.stderr || r.error?.message}`);
  return Number(r.stdout.trim());
}

async function stopGateway(gw: ChildGateway): Promise<void> {
  await gw.kill('SIGTERM');
}

/** Steady state on `p` for `seconds`, after a short warm-up. */
export async function runProfile(rig: LinkRig, p: LinkProfile, seconds: number): Promise<ProfileResult> {
  const id = `links-${p.name}-${process.pid}`;
  const t = rig.feed.track(id);
  const dir = tempDir(`cg-links-${p.name}-`);
  await rig.lab.shape(p.up, p.down);
  const gw = rig.startGateway(dir, rig.config(id, join(dir, 'data'), meterDevice()));
  try {
    await until(() => t.arrivals.size > 0, 90_000, `${id}: a first delivery`);
    await sleep(5000);
    const t0 = Date.now();
    const w0 = rig.wire();
    await sleep(seconds * 1000);
    const t1 = Date.now();
    const w1 = rig.wire();
    // Latency of the readings taken in the window, looked at 10 s later.
    await sleep(10_000);
    const lat = t.latencies(t0, t1, Date.now(), READINGS_PER_SECOND);
    const delivered = t.deliveredBetween(t0, t1);
    const wire = { up: w1.up - w0.up, down: w1.down - w0.down };
    const gaps = await rig.nothingLost(t, gw, 120_000);
    return {
      profile: p.name,
      seconds: (t1 - t0) / 1000,
      delivered,
      perSecond: delivered / ((t1 - t0) / 1000),
      p50Ms: percentile(lat.values, 50),
      p99Ms: percentile(lat.values, 99),
      pending: lat.pending,
      bytesPerReading: delivered > 0 ? (wire.up + wire.down) / delivered : NaN,
      wire,
      duplicates: t.collector.duplicates,
      gaps,
    };
  } finally {
    await stopGateway(gw);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Black-hole the link (on profile `p`) for `outageS`, restore, time the recovery. */
export async function runRecovery(rig: LinkRig, p: LinkProfile, outageS: number, boundS: number): Promise<RecoveryResult> {
  const id = `links-outage${outageS}-${process.pid}`;
  const t = rig.feed.track(id);
  const dir = tempDir(`cg-links-outage-`);
  await rig.lab.shape(p.up, p.down);
  const gw = rig.startGateway(dir, rig.config(id, join(dir, 'data'), meterDevice()));
  try {
    await until(() => t.arrivals.size > 0, 90_000, `${id}: a first delivery`);
    await sleep(5000);
    await rig.lab.cut();
    const cutAt = Date.now();
    await sleep(outageS * 1000);
    await rig.lab.shape(p.up, p.down);
    const restoreAt = Date.now();
    const wait = Math.max(boundS, 60) * 1000 + outageS * 1000;
    let firstFreshAt = 0;
    const drainedAt = await until(
      () => {
        if (!firstFreshAt) firstFreshAt = t.firstArrivalOfReadingAfter(restoreAt)?.at ?? 0;
        const s = firstFreshAt ? t.firstSeqAfter(restoreAt) : undefined;
        return s !== undefined && t.prefix() >= s - 1;
      },
      wait,
      `${id}: recovery after a ${outageS} s outage`,
      100,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\ngateway output:\n${gw.output.slice(-3000)}`);
    });
    let backlog = 0;
    let firstDeliveryAt = Infinity;
    for (const a of t.arrivals.values()) {
      if (a.ts >= cutAt && a.ts < restoreAt) backlog++;
      if (a.at >= restoreAt) firstDeliveryAt = Math.min(firstDeliveryAt, a.at);
    }
    const gaps = await rig.nothingLost(t, gw, 120_000);
    return { outageS, firstDeliveryS: (firstDeliveryAt - restoreAt) / 1000, firstFreshS: (firstFreshAt - restoreAt) / 1000, drainedS: (drainedAt - restoreAt) / 1000, backlog, gaps };
  } finally {
    await stopGateway(gw);
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The live-first scenario: fill a backlog of `backlogSeconds` of the 100-point device
 * with the link cut (the sim at 100× speed: 10 ms polls for backlogSeconds/100 s), then
 * restart the gateway at 1 Hz, restore profile `p`, and watch `windowS`: live readings'
 * latency while the backlog drains.
 */
export async function runBacklog(rig: LinkRig, p: LinkProfile, backlogSeconds: number, windowS: number): Promise<BacklogResult> {
  const id = `links-backlog-${process.pid}`;
  const t = rig.feed.track(id);
  const dir = tempDir(`cg-links-backlog-`);
  const data = join(dir, 'data');
  await rig.lab.cut();
  let gw = rig.startGateway(join(dir, 'fill'), rig.config(id, data, meterDevice('10ms')));
  try {
    await gw.waitForOutput(/gateway started/, 30_000);
    const fillStart = Date.now();
    await sleep((backlogSeconds / 100) * 1000);
    await stopGateway(gw);
    const fillS = (Date.now() - fillStart) / 1000;
    gw = rig.startGateway(join(dir, 'live'), rig.config(id, data, meterDevice()));
    await gw.waitForOutput(/gateway started/, 30_000);
    await rig.lab.shape(p.up, p.down);
    const restoreAt = Date.now();
    const windowEnd = restoreAt + windowS * 1000;
    let drainedAt: number | undefined;
    while (Date.now() < windowEnd) {
      const s = t.firstSeqAfter(restoreAt);
      if (drainedAt === undefined && s !== undefined && t.prefix() >= s - 1) drainedAt = Date.now();
      await sleep(250);
    }
    // Live readings taken in the window up to 30 s before its end, looked at its end.
    const lat = t.latencies(restoreAt, windowEnd - 30_000, Date.now(), READINGS_PER_SECOND);
    let backlogDeliveredInWindow = 0;
    for (const a of t.arrivals.values()) if (a.ts < restoreAt) backlogDeliveredInWindow++;
    const gaps = await rig.nothingLost(t, gw, 600_000);
    const firstLive = t.firstSeqAfter(restoreAt) ?? 0;
    return {
      backlog: firstLive - 1,
      fillS,
      windowS,
      liveDelivered: lat.values.length - lat.pending,
      livePending: lat.pending,
      liveP50Ms: percentile(lat.values, 50),
      liveP99Ms: percentile(lat.values, 99),
      backlogDeliveredInWindow,
      drainedS: drainedAt === undefined ? undefined : (drainedAt - restoreAt) / 1000,
      gaps,
    };
  } finally {
    await stopGateway(gw);
    rmSync(dir, { recursive: true, force: true });
  }
}

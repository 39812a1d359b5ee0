/**
 * The host side of the machine test: a persistent QoS 1 subscriber on the test's TLS
 * Mosquitto that accounts for every seq the guest's gateway publishes.
 *
 * - delivered: seq → the reading it carried (device, point, ts, value); the same seq
 *   arriving again with the same reading is a duplicate (at-least-once allows it), with a
 *   different reading a conflict (a seq given to two readings: never allowed);
 * - announced: seq ranges the `events` topic declared lost (buffer_lost, buffer_dropped,
 *   buffer_purged, as test/chaos/loss-events.ts reads them), with their reasons;
 * - the retained health payload, and when the first reading arrived.
 * `missing(upTo)` lists the seqs below `upTo` neither delivered nor announced.
 */
import type { MqttClient } from 'mqtt';
import { closeClient, persistentSubscriber } from '../helpers/mosquitto.js';
import { lossRanges, type EventLike } from '../chaos/loss-events.js';

export interface Announced {
  first: number;
  last: number;
  type: string;
  reason: string;
}

interface Reading {
  seq: number;
  ts: number;
  point: string;
  value: unknown;
  quality?: string;
}

/** A delivered reading as it came, with its device (the io test reads values and quality). */
export interface Delivered extends Reading {
  device: string;
}

export class Collector {
  readonly delivered = new Map<number, string>();
  readonly conflicts: string[] = [];
  readonly announced: Announced[] = [];
  readonly events: EventLike[] = [];
  /** Every reading in arrival order (duplicates included). */
  readonly readings: Delivered[] = [];
  duplicates = 0;
  health: Record<string, unknown> | undefined;
  firstReadingAt: number | undefined;
  private client: MqttClient | undefined;

  constructor(readonly root: string) {}

  async start(url: string, tls: { ca: string; cert: string; key: string }): Promise<void> {
    this.client = await persistentSubscriber(url, {
      clientId: 'machine-test-collector',
      protocolVersion: 4,
      topics: [`${this.root}/#`],
      tls,
      onMessage: (topic, payload) => this.onMessage(topic, payload),
    });
  }

  async stop(): Promise<void> {
    await closeClient(this.client);
  }

  /** Publishes on `<root>/<rel>` (QoS 1): a command to the guest's gateway. */
  async publish(rel: string, payload: string): Promise<void> {
    const c = this.client;
    if (!c) throw new Error('collector not started');
    await c.publishAsync(`${this.root}/${rel}`, payload, { qos: 1 });
  }

  private onMessage(topic: string, payload: Buffer): void {
    const rel = topic.slice(this.root.length + 1);
    let body: unknown;
    try {
      body = JSON.parse(payload.toString());
    } catch {
      return;
    }
    if (rel.startsWith('data/')) {
      const device = rel.slice('data/'.length);
      for (const r of (body as { readings: Reading[] }).readings) this.record(device, r);
    } else if (rel === 'events') {
      const ev = body as EventLike;
      this.events.push(ev);
      for (const [first, last] of lossRanges(ev)) this.announced.push({ first, last, type: String(ev.type), reason: String(ev.reason ?? '') });
    } else if (rel === 'health') {
      this.health = body as Record<string, unknown>;
    }
  }

  private record(device: string, r: Reading): void {
    this.firstReadingAt ??= Date.now();
    this.readings.push({ ...r, device });
    const key = `${device}/${r.point} ts=${r.ts} value=${JSON.stringify(r.value)}`;
    const had = this.delivered.get(r.seq);
    if (had === undefined) this.delivered.set(r.seq, key);
    else if (had === key) this.duplicates += 1;
    else if (this.conflicts.length < 50) this.conflicts.push(`seq ${r.seq}: ${had} | ${key}`);
  }

  get maxSeq(): number {
    let m = -1;
    for (const s of this.delivered.keys()) if (s > m) m = s;
    return m;
  }

  isAnnounced(seq: number): Announced | undefined {
    return this.announced.find((a) => seq >= a.first && seq <= a.last);
  }

  /** Seqs in [from, upTo) neither delivered nor announced lost (at most `limit`); seq starts at 1. */
  missing(upTo: number, from = 1, limit = 50): number[] {
    const out: number[] = [];
    for (let s = from; s < upTo && out.length < limit; s++) if (!this.delivered.has(s) && !this.isAnnounced(s)) out.push(s);
    return out;
  }

  /** Counts for the report: delivered and announced-lost seqs below `upTo`. */
  account(upTo: number): { delivered: number; announced: number; missing: number } {
    let delivered = 0;
    let announced = 0;
    let missing = 0;
    for (let s = 1; s < upTo; s++) {
      if (this.delivered.has(s)) delivered += 1;
      else if (this.isAnnounced(s)) announced += 1;
      else missing += 1;
    }
    return { delivered, announced, missing };
  }

  /** Polls `cond` every 250 ms until true or `timeoutMs` passes (then throws `what`). */
  async waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!cond()) {
      if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/**
 * What the subscriber saw of one gateway, with arrival times: the delivery promise is
 * checked by SeqCollector (test/helpers/seq-collector.ts); this adds, per seq, the
 * reading's ts and the first arrival at the subscriber (the latency of a reading), and
 * the contiguous prefix (every seq 1..prefix delivered or announced lost).
 *
 * `Feed` is the one subscriber of a link run: a persistent QoS 1 session on the
 * broker's unshaped address, handing each gateway's messages to its tracker.
 */
import type { MqttClient } from 'mqtt';
import { SeqCollector } from '../helpers/seq-collector.js';
import { closeClient, persistentSubscriber } from '../helpers/mosquitto.js';
import type { DataPayload } from '../../src/uplink/topics.js';

export interface Arrival {
  ts: number;
  at: number;
}

export class Tracker {
  readonly collector: SeqCollector;
  readonly arrivals = new Map<number, Arrival>();
  /** Arrival times in order (for windows). */
  readonly log: { seq: number; at: number }[] = [];
  private prefixSeq = 0;

  constructor(readonly gatewayId: string) {
    this.collector = new SeqCollector(`citygate/${gatewayId}`);
  }

  add(topic: string, payload: Buffer): void {
    this.collector.add(topic, payload);
    if (!topic.startsWith(`citygate/${this.gatewayId}/data/`)) return;
    const at = Date.now();
    const msg = JSON.parse(payload.toString()) as DataPayload;
    for (const r of msg.readings) {
      if (this.arrivals.has(r.seq)) continue;
      this.arrivals.set(r.seq, { ts: r.ts, at });
      this.log.push({ seq: r.seq, at });
    }
  }

  /** Highest N such that every seq 1..N was delivered or announced lost. */
  prefix(): number {
    const ranges = this.collector.announcedRanges();
    for (;;) {
      const next = this.prefixSeq + 1;
      if (this.arrivals.has(next) || ranges.some(([a, b]) => next >= a && next <= b)) this.prefixSeq = next;
      else return this.prefixSeq;
    }
  }

  /** Seqs 1..max seen that were neither delivered nor announced: silent loss (so far). */
  gaps(): number[] {
    return this.collector.unexplained(1, this.collector.max);
  }

  /** Readings first delivered in [from, to). */
  deliveredBetween(from: number, to: number): number {
    let n = 0;
    for (const e of this.log) if (e.at >= from && e.at < to) n++;
    return n;
  }

  /** The first arrival of a reading taken at or after `ts` (epoch ms), or undefined. */
  firstArrivalOfReadingAfter(ts: number): Arrival & { seq: number } | undefined {
    let best: (Arrival & { seq: number }) | undefined;
    for (const [seq, a] of this.arrivals) if (a.ts >= ts && (!best || a.at < best.at)) best = { ...a, seq };
    return best;
  }

  /** Smallest seq of a delivered reading taken at or after `ts`. */
  firstSeqAfter(ts: number): number | undefined {
    let best: number | undefined;
    for (const [seq, a] of this.arrivals) if (a.ts >= ts && (best === undefined || seq < best)) best = seq;
    return best;
  }

  /**
   * Latencies (arrival − ts, ms) of the readings taken in [from, to), with the sim's
   * `perSecond` readings/s as the count expected. The readings not delivered by `now`
   * (`pending`) count with a lower bound of their age: as if they were the latest ones
   * taken in the window (`perSecond` per second back from `to`), aged until `now`.
   */
  latencies(from: number, to: number, now: number, perSecond: number): { values: number[]; pending: number } {
    const values: number[] = [];
    for (const a of this.arrivals.values()) if (a.ts >= from && a.ts < to) values.push(a.at - a.ts);
    const pending = Math.max(0, Math.floor((to - from) / 1000) * perSecond - values.length);
    for (let i = 0; i < pending; i++) values.push(now - to + Math.floor(i / perSecond) * 1000);
    return { values, pending };
  }
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] as number;
}

export class Feed {
  private client: MqttClient | undefined;
  private readonly trackers = new Map<string, Tracker>();

  async connect(url: string): Promise<void> {
    this.client = await persistentSubscriber(url, {
      clientId: `cg-links-sub-${process.pid}`,
      protocolVersion: 5,
      topics: ['citygate/+/data/#', 'citygate/+/events'],
      onMessage: (topic, payload) => this.trackers.get(topic.split('/')[1] ?? '')?.add(topic, payload),
    });
  }

  track(gatewayId: string): Tracker {
    const t = new Tracker(gatewayId);
    this.trackers.set(gatewayId, t);
    return t;
  }

  async close(): Promise<void> {
    await closeClient(this.client);
  }
}

/**
 * Collects the readings a broker (or subscriber) saw, to check the delivery promise:
 * every seq from first to last present, in order per device and lane (live, or
 * `"replay": true` backlog: README "Live first after an outage"), duplicates counted.
 * Data payloads in either encoding (JSON or compact) go through the shipped decoder.
 */
import type { EventPayload } from '../../src/uplink/topics.js';
import { decodeDataPayload } from '../../src/uplink/encoding/decode.js';

export class SeqCollector {
  readonly seqs: number[] = [];
  readonly byDevice = new Map<string, number[]>();
  /** The same, per device and lane: keys `<device>` (live) and `<device> (replay)`. */
  readonly byLane = new Map<string, number[]>();
  readonly events: EventPayload[] = [];
  messages = 0;
  /** The same seq seen carrying a different reading: a reused seq. */
  readonly conflicts: string[] = [];
  private readonly identity = new Map<number, string>();

  constructor(private readonly root: string) {}

  add(topic: string, payload: Buffer | string): void {
    if (topic === `${this.root}/events`) {
      this.events.push(JSON.parse(payload.toString()) as EventPayload);
      return;
    }
    if (!topic.startsWith(`${this.root}/data/`)) return;
    const msg = decodeDataPayload(payload);
    this.messages++;
    let list = this.byDevice.get(msg.device);
    if (!list) this.byDevice.set(msg.device, (list = []));
    const laneKey = msg.replay ? `${msg.device} (replay)` : msg.device;
    let lane = this.byLane.get(laneKey);
    if (!lane) this.byLane.set(laneKey, (lane = []));
    for (const r of msg.readings) {
      const id = `${msg.device}/${r.point}@${r.ts}=${String(r.value)}`;
      const prev = this.identity.get(r.seq);
      if (prev === undefined) this.identity.set(r.seq, id);
      else if (prev !== id && this.conflicts.length < 10) this.conflicts.push(`seq ${r.seq}: ${prev} vs ${id}`);
      this.seqs.push(r.seq);
      list.push(r.seq);
      lane.push(r.seq);
    }
  }

  get unique(): Set<number> {
    return new Set(this.seqs);
  }

  /** Smallest seq seen (0 when none). */
  min(): number {
    return this.seqs.reduce((m, s) => (m === 0 ? s : Math.min(m, s)), 0);
  }

  get max(): number {
    return this.seqs.reduce((m, s) => Math.max(m, s), 0);
  }

  /** Seqs in [from, to] never seen. */
  missing(from: number, to: number): number[] {
    const u = this.unique;
    const out: number[] = [];
    for (let s = from; s <= to; s++) if (!u.has(s)) out.push(s);
    return out;
  }

  get duplicates(): number {
    return this.seqs.length - this.unique.size;
  }

  /**
   * The order uplink.order: live_first promises: per device and lane (live, replay),
   * ignoring re-sends, each first occurrence of a seq is greater than every earlier
   * first occurrence. Returns the violations.
   */
  orderViolations(): string[] {
    return violations(this.byLane);
  }

  /** The order uplink.order: strict promises: per device, across lanes. */
  strictOrderViolations(): string[] {
    return violations(this.byDevice);
  }

  /** Seq ranges announced as gone (dropped, lost, purged) on the events topic. */
  announcedRanges(): [number, number][] {
    const out: [number, number][] = [];
    for (const e of this.events as { type: string; first_seq?: number; last_seq?: number }[]) {
      if (!['buffer_dropped', 'buffer_lost', 'buffer_purged'].includes(e.type)) continue;
      if (typeof e.first_seq === 'number' && typeof e.last_seq === 'number') out.push([e.first_seq, e.last_seq]);
    }
    return out;
  }

  /** Seqs in [from, to] neither delivered nor announced as gone: silent loss. */
  unexplained(from: number, to: number): number[] {
    const ranges = this.announcedRanges();
    return this.missing(from, to).filter((s) => !ranges.some(([a, b]) => s >= a && s <= b));
  }

  async waitFor(pred: () => boolean, ms: number, what: string): Promise<void> {
    const end = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > end) throw new Error(`timed out after ${ms}ms waiting for ${what} (seen ${this.unique.size} unique seqs, max ${this.max})`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

function violations(streams: Map<string, number[]>): string[] {
  const out: string[] = [];
  for (const [stream, list] of streams) {
    const seen = new Set<number>();
    let high = 0;
    for (const s of list) {
      if (seen.has(s)) continue;
      seen.add(s);
      if (s < high) out.push(`${stream}: ${s} after ${high}`);
      high = Math.max(high, s);
    }
  }
  return out;
}

/**
 * What the link carries, measured from our own acknowledgements (no probes): the
 * delivery rate (bytes acknowledged per second, over the last `windowMs`) and the
 * shortest send-to-PUBACK time on this connection. Pure: times come from the caller.
 *
 * A rate sample is taken per acknowledged message, over its own flight: the bytes
 * acknowledged between its send and its PUBACK (its own included), divided by that
 * time. While the link is the bottleneck this is the link's rate; when we sent too
 * little to fill it, a sample is low, so the estimate is the *highest* recent sample
 * (as TCP BBR does). The round trip is the *lowest* sample since the connection
 * started (`reset`): the first messages of a connection meet an empty pipe; later
 * ones wait behind our own queue, and a budget built on their round trip would grow
 * its own queue (a window of recent samples drifts up the same way).
 */

interface Flight {
  bytes: number;
  at: number;
  ackedAtSend: number;
  /** When the last acknowledgement before this send came (or the send itself). */
  lastAckAtSend: number;
}

/** One bucket per `windowMs / BUCKETS`: the max rate seen in it. */
interface Bucket {
  start: number;
  maxRate: number;
}

const BUCKETS = 10;

export class LinkRate {
  private readonly flights = new Map<number, Flight>();
  private acked = 0;
  private lastAckAt: number | undefined;
  private buckets: Bucket[] = [];
  private rttFloor = Infinity;

  constructor(private readonly windowMs = 10_000) {}

  /** Message `id` (`bytes` on the wire) was written at `now` (ms). */
  sent(id: number, bytes: number, now: number): void {
    this.flights.set(id, { bytes, at: now, ackedAtSend: this.acked, lastAckAtSend: Math.min(now, this.lastAckAt ?? now) });
  }

  /** Message `id` was acknowledged at `now`. Unknown ids are ignored. */
  ackedAt(id: number, now: number): void {
    const f = this.flights.get(id);
    if (!f) return;
    this.flights.delete(id);
    this.acked += f.bytes;
    this.lastAckAt = now;
    const rtt = Math.max(1, now - f.at);
    // Over the longer of its flight and the time since the last ack before it was sent: bytes
    // that crossed the link before the send but were acknowledged during the flight would
    // otherwise count as delivered in a too short time (as in TCP BBR's delivery rate).
    const rate = ((this.acked - f.ackedAtSend) * 1000) / Math.max(rtt, now - f.lastAckAtSend);
    const b = this.bucket(now);
    b.maxRate = Math.max(b.maxRate, rate);
    this.rttFloor = Math.min(this.rttFloor, rtt);
  }

  /** The link was lost: flights will never be acknowledged; the next connection measures its own round trip (the rate stays). */
  reset(): void {
    this.flights.clear();
    this.rttFloor = Infinity;
    this.lastAckAt = undefined;
  }

  /** Bytes per second, or undefined before the first sample in the window. */
  rate(now: number): number | undefined {
    const live = this.live(now);
    return live.length === 0 ? undefined : Math.max(...live.map((b) => b.maxRate));
  }

  /** Shortest send-to-PUBACK time (ms) on this connection, or undefined. */
  minRtt(): number | undefined {
    return this.rttFloor === Infinity ? undefined : this.rttFloor;
  }

  private live(now: number): Bucket[] {
    this.buckets = this.buckets.filter((b) => now - b.start < this.windowMs);
    return this.buckets;
  }

  private bucket(now: number): Bucket {
    const width = this.windowMs / BUCKETS;
    const last = this.buckets[this.buckets.length - 1];
    if (last && now - last.start < width) return last;
    const b: Bucket = { start: now, maxRate: 0 };
    this.buckets.push(b);
    if (this.buckets.length > BUCKETS + 1) this.buckets.shift();
    return b;
  }
}

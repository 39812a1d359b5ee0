/**
 * The uplink contract. It publishes from the buffer only, only while connected, with
 * a bounded number of messages awaiting PUBACK, and deletes rows only on PUBACK
 * (docs/architecture.md#the-data-path). It owns reconnecting (reachability probes while the broker
 * is unreachable, backoff after refusals, several brokers in turn; a fresh client per attempt) and
 * never throws to its caller: failures show in `stats()`.
 *
 * States: `connecting` (an attempt is under way), `online` (connected, acknowledgements
 * flowing or nothing to send), `stalled` (connected, but data awaits PUBACK and nothing was
 * acknowledged for a while: the link is likely black-holed; it turns `offline` at the ack
 * timeout), `offline`, `stopped`. Only `online` and `stalled` have a connection.
 */
import type { HistogramSnapshot } from '../core/histogram.js';
export type UplinkState = 'connecting' | 'online' | 'stalled' | 'offline' | 'stopped';

export interface UplinkStats {
  state: UplinkState;
  connectedSince?: number;
  reconnects: number;
  published: number;
  ackedReadings: number;
  inflight: number;
  window: number;
  lastError?: string;
  /** Wall-clock ms of `lastError`; both are cleared when the link is online again. */
  lastErrorAt?: number;
  insecure: boolean;
  /** URL of the broker of the current (or last) connection. */
  broker?: string;
  /** Wall-clock ms of the last acknowledged reading (noticed within a second). */
  lastAckAt?: number;
  /** Ms since that acknowledgement. */
  sinceAckMs?: number;
  /** Reachability probes and full connection attempts since start. */
  probes?: number;
  attempts?: number;
  /** MQTT bytes sent to and received from brokers since start (before TLS). */
  bytesSent?: number;
  bytesReceived?: number;
  /** Time from publishing a data message to its PUBACK, ms, since start. */
  ackLatency?: HistogramSnapshot & { p50?: number; p99?: number };
}

export interface Uplink {
  start(): void;
  /** New data was committed: publish it when the batch rules allow. */
  notify(): void;
  /**
   * Publish a retained snapshot (health); dropped when offline. Given several
   * renderings (most detailed first), sends the first that fits the broker's limit.
   */
  publishHealth(payload: string | (() => string)[]): void;
  /** Deliver what can be delivered before `deadlineMs`, publish offline status, disconnect. */
  stop(deadlineMs: number): Promise<void>;
  stats(): UplinkStats;
}

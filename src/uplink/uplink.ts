/**
 * The uplink contract. It publishes from the buffer only, only while connected, with
 * a bounded number of messages awaiting PUBACK, and deletes rows only on PUBACK
 * (docs/architecture.md#the-data-path). It owns reconnecting (backoff with jitter, a fresh client per
 * attempt) and never throws to its caller: failures show in `stats()`.
 */
export type UplinkState = 'connecting' | 'online' | 'offline' | 'stopped';

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

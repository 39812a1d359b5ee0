/**
 * What the uplink says while its link is down, and the counts behind it. An outage starts
 * at the first connection attempt after the link was online (or when an online link
 * drops) and ends when the link is online again. Meanwhile, never one line per retry:
 * - `noteError(text)`: one line when the reason changes; the same reason again at most
 *   once a minute, with the attempts, time offline and backlog;
 * - `summary(now, quiet)`: one line a minute with the time offline, attempts, probes,
 *   the redialer's next step and the backlog;
 * - `reachable(b, probes)`: one line when a probe finds the broker again;
 * - `online(link)`: the line that ends the outage; the counts and the last error are cleared.
 * `lastError` and `lastErrorAt` are what the uplink's stats show. A buffer that cannot
 * say its backlog shows -1.
 */
import type { Logger } from 'pino';
import type { Clock } from '../core/clock.js';
import { LogLimiter } from '../core/log-limiter.js';
import type { DurableBuffer } from '../buffer/buffer.js';
import type { Broker } from './brokers.js';
import type { Redialer } from './redial.js';

/** While offline, a summary line this often. */
const SUMMARY_MS = 60_000;

export interface OutageLogOptions {
  clock: Clock;
  log: Logger;
  buffer: DurableBuffer;
  /** The broker of the current (or last) attempt. */
  broker: () => Broker;
  /** The redialer's next step, for the summary line. */
  pending: () => ReturnType<Redialer['pending']>;
}

/** What the line that ends an outage says of the new connection. */
export interface OnlineFacts {
  window: number;
  maxPacket: number;
  reconnects: number;
  /** Not the first connection since start: the line says how long the link was down. */
  again: boolean;
}

export class OutageLog {
  /** Why the link is (or was last) down; undefined once it is online again. */
  lastError: string | undefined;
  /** Wall-clock ms of `lastError`, when it was noted with its time. */
  lastErrorAt: number | undefined;
  /** Connection attempts since the link was last online, and since when it is down (mono ms). */
  private attempts = 0;
  /** Reachability probes since the link was last online. */
  private probes = 0;
  private offlineSince: number | undefined;
  private lastSummaryAt: number | undefined;
  private lastLoggedError: string | undefined;
  private readonly errorLog: LogLimiter;

  constructor(private readonly o: OutageLogOptions) {
    this.errorLog = new LogLimiter(o.clock);
  }

  /** A connection attempt starts; the outage starts now unless it already has. */
  attempt(): void {
    this.attempts++;
    this.offlineSince ??= this.o.clock.mono();
  }

  /** A reachability probe goes out. */
  probed(): void {
    this.probes++;
  }

  /**
   * An online link dropped: the outage starts now, not at the next MQTT attempt. With
   * probes in between, that attempt comes only when the broker is back, and "online
   * again after 0s" was logged.
   */
  dropped(): void {
    this.offlineSince = this.o.clock.mono();
  }

  /** Note why the link failed, without a line; with `at` (wall ms) as its time. */
  failed(text: string, at?: number): void {
    this.lastError = text;
    if (at !== undefined) this.lastErrorAt = at;
  }

  /**
   * One line when the reason the link is down changes; the same reason again at most
   * once a minute, with the attempts, time offline and backlog (not one line per retry).
   */
  noteError(text: string): void {
    this.failed(text, this.o.clock.now());
    const changed = text !== this.lastLoggedError;
    const { log, repeats } = changed ? { log: true, repeats: 0 } : this.errorLog.hit();
    if (changed) this.errorLog.hit();
    if (!log) return;
    this.lastLoggedError = text;
    const offlineS = this.offlineSeconds();
    this.o.log.warn(
      { broker: this.o.broker().url, attempts: this.attempts, offline_s: offlineS, backlog: this.backlog(), ...(repeats ? { repeats } : {}) },
      `uplink: ${text}${changed ? '' : ` (still, after ${this.attempts} attempts and ${offlineS}s offline)`}`,
    );
  }

  /** While the link is down and not `quiet` (online or stopping): one line a minute with the time offline, attempts, probes and backlog. */
  summary(now: number, quiet: boolean): void {
    if (quiet || this.offlineSince === undefined) {
      this.lastSummaryAt = undefined;
      return;
    }
    this.lastSummaryAt ??= this.offlineSince;
    if (now - this.lastSummaryAt < SUMMARY_MS) return;
    this.lastSummaryAt = now;
    const offlineS = Math.round((now - this.offlineSince) / 1000);
    const next = this.o.pending();
    this.o.log.warn(
      { broker: this.o.broker().url, offline_s: offlineS, attempts: this.attempts, probes: this.probes, backlog: this.backlog(), ...(next ? { next: next.action, next_in_ms: Math.round(next.in) } : {}) },
      `uplink: still offline after ${offlineS}s (${this.attempts} attempts, ${this.probes} probes${this.lastError ? `; last error: ${this.lastError}` : ''})`,
    );
  }

  /** A probe found broker `b` reachable again after `probes` probes. */
  reachable(b: Broker, probes: number): void {
    const offlineS = this.offlineSeconds();
    this.o.log.info({ broker: b.url, probes, offline_s: offlineS }, `uplink: broker ${b.host}:${b.port} reachable again after ${offlineS}s; connecting`);
  }

  /** The link is online: the line that says so, then the outage is over. */
  online(link: OnlineFacts): void {
    const offlineS = this.offlineSeconds();
    this.o.log.info(
      { broker: this.o.broker().url, window: link.window, maxPacket: link.maxPacket, reconnects: link.reconnects, attempts: this.attempts, probes: this.probes, offline_s: offlineS, backlog: this.backlog() },
      link.again ? `uplink online again after ${offlineS}s, ${this.attempts} attempts and ${this.probes} probes; ${this.backlog()} readings to deliver` : 'uplink online',
    );
    // Recovered: the error that kept it offline is history (its time stays in the log).
    this.lastError = undefined;
    this.lastErrorAt = undefined;
    this.attempts = 0;
    this.probes = 0;
    this.offlineSince = undefined;
    this.lastLoggedError = undefined;
    this.errorLog.clear();
  }

  private offlineSeconds(): number {
    return this.offlineSince === undefined ? 0 : Math.round((this.o.clock.mono() - this.offlineSince) / 1000);
  }

  private backlog(): number {
    try {
      return this.o.buffer.stats().readings;
    } catch {
      return -1;
    }
  }
}

/**
 * The MQTT uplink (mqtt.js 5). See uplink.ts for the contract; here, why it works
 * the way it does (docs/field-notes.md, MQTT section):
 * - Nothing is ever queued inside mqtt.js: we publish only while `online`, at most
 *   `window` data messages awaiting PUBACK (≤ the broker's Receive Maximum), so the
 *   message-id wrap that silently drops QoS 1 publishes can never happen.
 * - Every connection attempt is a fresh client with reconnectPeriod 0. A generation
 *   counter makes callbacks of dead clients harmless; `end(true)` leaves publish
 *   callbacks unsettled, and we never wait on them. When and where to try again is
 *   the Redialer's (redial.ts: TCP probes while unreachable, backoff after refusals,
 *   several brokers in turn).
 * - A watchdog treats a PUBACK later than `ack_timeout`, or a connect attempt that
 *   neither connects nor fails, as a dead link: drop the client, reconnect.
 * - After any disconnect, everything not acknowledged is re-read from the buffer and
 *   sent again: duplicates around a reconnect, never a gap.
 */
import mqtt, { type IConnackPacket, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { Clock } from '../core/clock.js';
import { describeError } from '../core/errors.js';
import { LogLimiter } from '../core/log-limiter.js';
import type { DurableBuffer } from '../buffer/buffer.js';
import type { UplinkConfig } from '../config/schema.js';
import { Histogram } from '../core/histogram.js';
import { LanePump } from './lane-pump.js';
import { WireBytes } from './wire-bytes.js';
import { subscribeDownlink, type DownlinkListener } from './downlink-subscription.js';
import type { LaneMessage } from './lanes.js';
import { clientOptions } from './client-options.js';
import { ProtocolChoice } from './protocol-choice.js';
import { parseBrokers, type Broker } from './brokers.js';
import { tcpReachable } from './reachability.js';
import { Redialer } from './redial.js';
import { failureKind } from './reconnect-policy.js';
import { NetWatch } from './net-watch.js';
import { explainMqttError } from './mqtt-errors.js';
import { RefusalHold, describeRefusal, pubackRefusal } from './publish-refusal.js';
import { AckWatch, SESSION_TAKEN_OVER, TakeoverWatch, stallAfter, takeoverHint } from './link-state.js';
import type { Topics } from './topics.js';
import type { Dialect, DialectLink, WireMessage } from './dialects/dialect.js';
import { CitygateDialect } from './dialects/citygate.js';
import type { Uplink, UplinkState, UplinkStats } from './uplink.js';
import { noDelay } from './no-delay.js';

export type { DownlinkListener };

export interface MqttUplinkOptions {
  config: UplinkConfig;
  gatewayId: string;
  topics: Topics;
  buffer: DurableBuffer;
  clock: Clock;
  log: Logger;
  version: string;
  startedAt: number;
  /** Called each time the link comes up, after the retained status is sent (the gateway publishes its health then); must not throw. */
  onOnline?: () => void;
  /** What goes on the wire (src/uplink/dialects/dialect.ts); default citygate's own topics. */
  dialect?: Dialect;
}


/** MQTT's own ceiling for a packet (256 MiB), used when the broker states none. */
const MQTT_MAX_PACKET = 268_435_455;
/** Online this long, a connection resets the reconnect backoff. */
const STABLE_MS = 30_000;
/** While offline, the network interfaces are compared every this many watchdog ticks (seconds). */
const NET_POLL_TICKS = 5;
/** While offline, a summary line this often. */
const SUMMARY_MS = 60_000;
/** Slots of the broker's Receive Maximum kept for status and events. */
const RESERVED_SLOTS = 2;

export class MqttUplink implements Uplink {
  private client: MqttClient | undefined;
  private gen = 0;
  private st: UplinkState = 'offline';
  private readonly lanes: LanePump;
  private readonly sentAt = new Map<number, number>();
  private serial = 0;
  private window: number;
  private maxPacket = MQTT_MAX_PACKET;
  private eventsInflight = new Set<number>();
  private pumping = false;
  private draining = false;
  private stopping = false;
  private cancelWatchdog: (() => void) | undefined;
  /** Reset on every PUBACK: the broker of this connection is good. */
  private readonly backoff: { reset(): void };
  private readonly brokers: Broker[];
  private broker: Broker;
  private readonly redial: Redialer;
  private readonly acks = new AckWatch();
  private readonly net = new NetWatch();
  private ticks = 0;
  private readonly takeover = new TakeoverWatch();
  /** This connection's last error, and whether the broker sent DISCONNECT 0x8E. */
  private attemptError: unknown;
  private takenOver = false;
  private onlineAtMono = 0;
  private readonly s = { reconnects: 0, published: 0, ackedReadings: 0, connects: 0 } as {
    reconnects: number;
    published: number;
    ackedReadings: number;
    connects: number;
    connectedSince?: number;
    lastError?: string;
    lastErrorAt?: number;
  };
  /** Connection attempts since the link was last online, and since when it is down (mono ms). */
  private attempts = 0;
  /** Reachability probes since the link was last online. */
  private probes = 0;
  private offlineSince: number | undefined;
  private lastSummaryAt: number | undefined;
  private lastLoggedError: string | undefined;
  private readonly errorLog: LogLimiter;
  private downlink: DownlinkListener | undefined;
  /** MQTT 5 as configured, or 3.1.1 after a broker showed it speaks nothing else. */
  private readonly protocol: ProtocolChoice;
  private readonly wire = new WireBytes();
  /** PUBACK latency of data messages, ms (bounds fit a LAN to a 2G link). */
  private readonly ackLatency = new Histogram([25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000]);
  /** What goes on the wire; the buffer, lanes and acknowledgements below it are the same for all. */
  readonly dialect: Dialect;
  /** Data and events the broker refused (PUBACK ≥ 0x80) wait here, the link kept (publish-refusal.ts). */
  private readonly held = { data: new RefusalHold(), events: new RefusalHold() };

  constructor(private readonly o: MqttUplinkOptions) {
    this.dialect = o.dialect ?? new CitygateDialect({ topics: o.topics, version: o.version, startedAt: o.startedAt });
    const link: DialectLink = {
      publish: (m, done) => this.publishWire(m, done),
      reconnect: (reason, last) => this.reconnectFor(reason, last),
      wake: () => this.pump(),
      protocolVersion: () => this.protocol.version,
    };
    this.dialect.attach(link);
    this.window = o.config.inflight;
    this.protocol = new ProtocolChoice(o.config.protocol_version);
    this.lanes = new LanePump(o.config, o.gatewayId, o.buffer, o.clock, () => this.pump());
    this.errorLog = new LogLimiter(o.clock);
    this.brokers = parseBrokers(o.config.url);
    this.broker = this.brokers[0] as Broker;
    const r = o.config.reconnect;
    this.redial = new Redialer(this.brokers, { min: r.min, max: r.max, probe: r.probe }, o.clock, {
      probe: (b) => {
        this.probes++;
        return tcpReachable(b.host, b.port, o.config.connect_timeout);
      },
      scheduled: (b, action, delay) => o.log.debug({ delay, action, broker: b.url }, 'uplink: reconnect scheduled'),
      connect: (b) => this.connect(b),
      reachable: (b, probes) => {
        const offlineS = this.offlineSince === undefined ? 0 : Math.round((o.clock.mono() - this.offlineSince) / 1000);
        o.log.info({ broker: b.url, probes, offline_s: offlineS }, `uplink: broker ${b.host}:${b.port} reachable again after ${offlineS}s; connecting`);
      },
    });
    this.backoff = { reset: () => this.redial.reset() };
  }

  start(): void {
    for (const b of this.brokers) {
      if (!b.insecure) continue;
      this.o.log.warn({ broker: b.url }, 'UNENCRYPTED UPLINK: city data and credentials go to a non-loopback broker in clear text — use mqtts:// or wss://');
    }
    this.stopping = false;
    this.redial.start();
    this.watchdog();
  }

  private connect(broker: Broker): void {
    if (this.stopping) return;
    const g = ++this.gen;
    if (broker !== this.broker && this.brokers.length > 1) {
      this.o.log.warn({ broker: broker.url, from: this.broker.url }, `uplink: trying broker ${broker.index + 1} of ${this.brokers.length} (${broker.host}:${broker.port})`);
    }
    this.broker = broker;
    this.st = 'connecting';
    this.attempts++;
    this.attemptError = undefined;
    this.takenOver = false;
    this.offlineSince ??= this.o.clock.mono();
    let client: MqttClient;
    try {
      client = mqtt.connect(broker.url, clientOptions(this.o.config, this.o.gatewayId, this.o.topics, broker.url, this.protocol.version, this.dialect.will() ?? null));
    } catch (err) {
      this.noteError(`cannot connect: ${describeError(err)}`);
      this.st = 'offline';
      this.redial.failed(failureKind(err));
      return;
    }
    this.client = client;
    noDelay(client.stream);
    this.wire.attach(client.stream);
    const connectDeadline = this.o.clock.setTimer(this.o.config.connect_timeout + 5000, () => {
      if (g === this.gen && this.st === 'connecting') this.down(g, new Error(`no CONNACK within ${this.o.config.connect_timeout}ms`));
    });
    client.on('connect', (connack: IConnackPacket) => {
      connectDeadline();
      if (g === this.gen) this.online(connack);
    });
    let errCode: string | number | undefined;
    let reached = false; // the TCP connection was up: a silent close came from the broker
    client.stream.once('connect', () => {
      reached = true;
      noDelay(client.stream); // again once connected: a socket created unconnected keeps it only from here
    });
    client.on('error', (err: Error & { code?: string | number }) => {
      if (g !== this.gen) return;
      errCode = err.code;
      this.attemptError = err;
      this.noteError(explainMqttError(err));
    });
    client.on('disconnect', (packet) => {
      if (g !== this.gen) return;
      if (packet.reasonCode === SESSION_TAKEN_OVER) this.takenOver = true;
      else if (packet.reasonCode) this.attemptError = Object.assign(new Error(`broker disconnected us (reason ${packet.reasonCode})`), { code: packet.reasonCode });
    });
    client.on('close', () => {
      connectDeadline();
      if (g === this.gen && this.st === 'connecting') this.protocol.failed(errCode, reached);
      if (g === this.gen) this.down(g, new Error(this.s.lastError ?? 'connection closed'));
    });
  }

  private online(connack: IConnackPacket): void {
    this.st = 'online';
    this.s.connects++;
    if (this.s.connects > 1) this.s.reconnects++;
    this.s.connectedSince = this.o.clock.now();
    if (this.protocol.accepted())
      this.o.log.warn({ broker: this.broker.url }, 'uplink: the broker speaks MQTT 3.1.1 only (it refused MQTT 5): using 3.1.1 — set uplink.protocol_version: 4 to skip the MQTT 5 attempt');
    this.onlineAtMono = this.o.clock.mono();
    this.redial.connected();
    const props = connack.properties;
    const rm = props?.receiveMaximum ?? 65_535;
    this.window = Math.max(1, Math.min(this.o.config.inflight, rm - RESERVED_SLOTS));
    this.maxPacket = props?.maximumPacketSize ?? MQTT_MAX_PACKET;
    const offlineS = this.offlineSince === undefined ? 0 : Math.round((this.o.clock.mono() - this.offlineSince) / 1000);
    this.o.log.info(
      { broker: this.broker.url, window: this.window, maxPacket: this.maxPacket, reconnects: this.s.reconnects, attempts: this.attempts, probes: this.probes, offline_s: offlineS, backlog: this.backlog() },
      this.s.connects > 1 ? `uplink online again after ${offlineS}s, ${this.attempts} attempts and ${this.probes} probes; ${this.backlog()} readings to deliver` : 'uplink online',
    );
    // Recovered: the error that kept it offline is history (its time stays in the log).
    delete this.s.lastError;
    delete this.s.lastErrorAt;
    this.attempts = 0;
    this.probes = 0;
    this.offlineSince = undefined;
    this.lastLoggedError = undefined;
    this.errorLog.clear();
    this.dialect.online();
    // SUBSCRIBE before anything the gateway publishes on going online (health): a Sparkplug
    // node's first ready() sends NBIRTH, which must follow its NCMD/DCMD subscription.
    this.subscribeDownlink();
    this.o.onOnline?.();
    this.lanes.linkUp();
    this.pump();
  }

  /**
   * One line when the reason the link is down changes; the same reason again at most
   * once a minute, with the attempts, time offline and backlog (not one line per retry).
   */
  private noteError(text: string): void {
    this.s.lastError = text;
    this.s.lastErrorAt = this.o.clock.now();
    const changed = text !== this.lastLoggedError;
    const { log, repeats } = changed ? { log: true, repeats: 0 } : this.errorLog.hit();
    if (changed) this.errorLog.hit();
    if (!log) return;
    this.lastLoggedError = text;
    const offlineS = this.offlineSince === undefined ? 0 : Math.round((this.o.clock.mono() - this.offlineSince) / 1000);
    this.o.log.warn(
      { broker: this.broker.url, attempts: this.attempts, offline_s: offlineS, backlog: this.backlog(), ...(repeats ? { repeats } : {}) },
      `uplink: ${text}${changed ? '' : ` (still, after ${this.attempts} attempts and ${offlineS}s offline)`}`,
    );
  }

  /** While the link is down: one line a minute with the time offline, attempts, probes and backlog. */
  private summary(now: number): void {
    if (this.st === 'online' || this.stopping || this.offlineSince === undefined) {
      this.lastSummaryAt = undefined;
      return;
    }
    this.lastSummaryAt ??= this.offlineSince;
    if (now - this.lastSummaryAt < SUMMARY_MS) return;
    this.lastSummaryAt = now;
    const offlineS = Math.round((now - this.offlineSince) / 1000);
    const next = this.redial.pending();
    this.o.log.warn(
      { broker: this.broker.url, offline_s: offlineS, attempts: this.attempts, probes: this.probes, backlog: this.backlog(), ...(next ? { next: next.action, next_in_ms: Math.round(next.in) } : {}) },
      `uplink: still offline after ${offlineS}s (${this.attempts} attempts, ${this.probes} probes${this.s.lastError ? `; last error: ${this.s.lastError}` : ''})`,
    );
  }

  private backlog(): number {
    try {
      return this.o.buffer.stats().readings;
    } catch {
      return -1;
    }
  }

  // ---- downlink hook (src/commands) -------------------------------------------------

  /** Receive downlink messages from now on (subscribes on this and every later connection). */
  setDownlink(listener: DownlinkListener): void {
    this.downlink = listener;
    this.subscribeDownlink();
  }

  private subscribeDownlink(): void {
    const client = this.client;
    const d = this.downlink;
    if (!client || !d || this.st !== 'online') return;
    const g = this.gen;
    subscribeDownlink(client, d, { alive: () => g === this.gen, clock: this.o.clock, log: this.o.log });
  }

  /** Publish a command reply (QoS 1, not retained); false when offline. */
  publishReply(topic: string, payload: string, correlationData?: Buffer): boolean {
    return this.publishWire({ topic, payload, qos: 1, ...(correlationData ? { correlationData } : {}) });
  }

  /**
   * Publish one message of the dialect on the current connection; false when offline.
   * `done` gets its PUBACK (or write, QoS 0), unless the connection died first.
   */
  publishWire(m: WireMessage, done?: (err?: Error) => void): boolean {
    const client = this.client;
    if (this.st !== 'online' || !client) return false;
    const properties = { ...m.properties, ...(m.correlationData && this.protocol.version === 5 ? { correlationData: m.correlationData } : {}) };
    const opts = { qos: m.qos, ...(m.retain ? { retain: true } : {}), ...(Object.keys(properties).length > 0 ? { properties } : {}) };
    const g = this.gen;
    client.publish(m.topic, m.payload, opts, done ? (err) => g === this.gen && done(err ?? undefined) : undefined);
    return true;
  }

  /** The dialect asks for a new session: publish `last`, wait (≤ 1 s) for its PUBACK, drop the connection, redial. */
  private reconnectFor(reason: string, last?: WireMessage): void {
    if (this.st !== 'online') return;
    const g = this.gen;
    const end = (): void => {
      if (g !== this.gen) return;
      if (this.dialect.disconnectCleanly) this.client?.end(false);
      this.down(g, new Error(reason));
    };
    this.o.log.warn({ broker: this.broker.url }, `uplink: reconnecting: ${reason}`);
    if (!last || !this.publishWire(last, end)) return end();
    this.o.clock.setTimer(1000, end);
  }

  /** Publish a retained message (Home Assistant discovery and state); false when offline. */
  publishRetained(topic: string, payload: string, qos: 0 | 1): boolean {
    if (this.st !== 'online' || !this.client) return false;
    this.client.publish(topic, payload, { qos, retain: true });
    return true;
  }

  // ---- end of downlink hook ---------------------------------------------------------

  private down(g: number, reason: unknown): void {
    if (g !== this.gen) return;
    this.gen++;
    const old = this.client;
    this.client = undefined;
    this.wire.detach();
    if (old) {
      old.removeAllListeners();
      old.on('error', () => {});
      old.end(true);
    }
    const wasOnline = this.st === 'online';
    // The outage starts now, not at the next MQTT attempt: with probes in between, that
    // attempt comes only when the broker is back, and "online again after 0s" was logged.
    if (wasOnline) this.offlineSince = this.o.clock.mono();
    const livedMs = wasOnline ? this.o.clock.mono() - this.onlineAtMono : 0;
    // A connection that held for a while was a success, even if it carried no data.
    if (wasOnline && livedMs > STABLE_MS) this.redial.reset();
    if (wasOnline && !this.stopping && this.takeover.ended({ takenOver: this.takenOver, clean: this.attemptError === undefined, livedMs })) {
      const clientId = this.o.config.client_id ?? `citygate-${this.o.gatewayId}`;
      this.o.log.error({ broker: this.broker.url, client_id: clientId }, takeoverHint(clientId, this.o.gatewayId, this.o.config.protocol_version === 5));
    }
    this.st = this.stopping ? 'stopped' : 'offline';
    this.sentAt.clear();
    this.eventsInflight.clear();
    this.lanes.linkDown();
    this.dialect.down();
    try {
      this.o.buffer.flushAcks();
    } catch (err) {
      this.o.log.error(`uplink: applying acknowledgements failed: ${describeError(err)}`);
    }
    const why = this.takenOver ? 'another client took the session (DISCONNECT 0x8E)' : describeError(reason);
    if (wasOnline && !this.stopping) this.o.log.warn({ broker: this.broker.url }, `uplink offline: ${why}`);
    // Taken over: fighting back every few seconds would only kick the other client out.
    if (!this.stopping) this.redial.failed(this.takenOver || this.takeover.suspect ? 'refused' : failureKind(this.attemptError ?? reason));
  }

  private watchdog(): void {
    this.cancelWatchdog = this.o.clock.setTimer(1000, () => {
      if (this.stopping && this.st !== 'online') return;
      const now = this.o.clock.mono();
      this.acks.observe(this.s.ackedReadings, now, this.o.clock.now());
      this.summary(now);
      // Every NET_POLL_TICKS seconds while offline: a changed network ends the wait.
      if (this.st === 'offline' && ++this.ticks % NET_POLL_TICKS === 0 && this.net.changed() && this.redial.networkChanged()) {
        this.o.log.info({ broker: this.broker.url }, 'uplink: the network changed; trying the broker now');
      }
      for (const at of this.sentAt.values()) {
        if (now - at > this.o.config.ack_timeout) {
          this.down(this.gen, new Error(`no PUBACK within ${this.o.config.ack_timeout}ms: link stuck`));
          break;
        }
      }
      this.watchdog();
    });
  }

  notify(): void {
    this.lanes.committed();
    this.pump();
  }

  private pump(): void {
    if (this.st !== 'online' || this.pumping) return;
    this.pumping = true;
    // One write for everything this pump sends (mqtt.js writes each packet on its own).
    const stream = (this.client as unknown as { stream?: { cork?: () => void; uncork?: () => void } } | undefined)?.stream;
    stream?.cork?.();
    try {
      // The dialect's gate (Sparkplug: births first, nothing while the primary host is offline).
      if (!this.dialect.ready()) return;
      this.pumpEvents();
      const maxBytes = Math.min(this.maxPacket, MQTT_MAX_PACKET) - 64 - Buffer.byteLength(this.o.topics.data('x')) - 64;
      while (this.sentAt.size < this.window && !this.held.data.holding(this.o.clock.mono())) {
        const m = this.lanes.next({ inflight: this.sentAt.size, window: this.window, maxBytes, draining: this.draining });
        if (!m) break;
        this.send(m);
      }
    } catch (err) {
      this.s.lastError = describeError(err);
      this.o.log.error(`uplink: reading the buffer failed: ${this.s.lastError}`);
    } finally {
      this.pumping = false;
      stream?.uncork?.();
    }
  }

  private send(m: LaneMessage): void {
    const client = this.client;
    if (!client) return;
    // The dialect's form first: should it throw, no flight is left waiting for a PUBACK.
    const wire = this.dialect.data(m);
    const g = this.gen;
    const id = ++this.serial;
    const sentAt = this.o.clock.mono();
    this.sentAt.set(id, sentAt);
    this.lanes.sent(id, m);
    client.publish(wire.topic, wire.payload, { qos: 1, ...(wire.retain ? { retain: true } : {}), ...(wire.properties ? { properties: wire.properties } : {}) }, (err) => {
      if (g !== this.gen) return;
      this.sentAt.delete(id);
      if (err) return this.publishFailed(g, err, 'data', wire.topic);
      this.held.data.accepted();
      this.lanes.acked(id);
      this.ackLatency.observe(this.o.clock.mono() - sentAt);
      this.o.buffer.ack(m.ackRows);
      this.s.published++;
      this.s.ackedReadings += m.readings;
      this.backoff.reset();
      this.pump();
    });
  }

  /**
   * A QoS 1 publish from the buffer failed. A broken link goes down as ever; a broker that
   * refused the message (PUBACK ≥ 0x80) keeps the link for replies and health while that
   * kind waits, and the link is renewed after the wait so the refused rows are sent again.
   */
  private publishFailed(g: number, err: unknown, kind: 'data' | 'events', topic: string): void {
    const code = pubackRefusal(err);
    if (code === undefined) return this.down(g, err);
    const now = this.o.clock.mono();
    const hold = this.held[kind];
    if (hold.holding(now)) return; // the rest of the window, refused with the first
    const ms = hold.refused(now);
    const text = `broker refused ${kind} on ${topic}: ${describeRefusal(code)}; nothing is deleted, sent again in ${Math.round(ms / 1000)} s`;
    this.s.lastError = text;
    this.s.lastErrorAt = this.o.clock.now();
    this.o.log.error({ broker: this.broker.url, reason: code }, `uplink: ${text}`);
    this.o.clock.setTimer(ms, () => {
      if (g === this.gen) this.reconnectFor(`sending the ${kind} the broker refused again`);
    });
  }

  private pumpEvents(): void {
    if (this.eventsInflight.size > 0 || !this.client || this.held.events.holding(this.o.clock.mono()) || !this.o.buffer.hasEvents()) return;
    // Events without a wire form in this dialect are done at once (bounded: a few per pump).
    let ev = this.o.buffer.readEvents(1)[0];
    let wire = ev && this.dialect.event(ev.payload);
    for (let skipped = 0; ev && !wire && skipped < 16; skipped++) {
      this.o.buffer.ackEvent(ev.id);
      ev = this.o.buffer.readEvents(1)[0];
      wire = ev && this.dialect.event(ev.payload);
    }
    if (!ev || !wire) return;
    const g = this.gen;
    const id = ev.id;
    this.eventsInflight.add(id);
    this.client.publish(wire.topic, wire.payload, { qos: 1, ...(wire.retain ? { retain: true } : {}) }, (err) => {
      if (g !== this.gen) return;
      this.eventsInflight.delete(id);
      if (err) return this.publishFailed(g, err, 'events', wire.topic);
      this.held.events.accepted();
      this.o.buffer.ackEvent(id);
      this.pump();
    });
  }

  publishHealth(payload: string | (() => string)[]): void {
    if (this.st !== 'online' || !this.dialect.ready()) return;
    // Candidates from most to least detailed: the first that fits the broker's
    // Maximum Packet Size is sent (an oversize packet gets us disconnected).
    const candidates = typeof payload === 'string' ? [() => payload] : payload;
    for (const make of candidates) {
      const wire = this.dialect.health(make());
      if (!wire) return;
      const size = Buffer.byteLength(wire.payload) + Buffer.byteLength(wire.topic) + 16;
      if (size <= this.maxPacket) {
        this.publishWire(wire);
        return;
      }
    }
    this.o.log.warn({ maxPacket: this.maxPacket }, 'uplink: health snapshot larger than the broker accepts: not sent');
  }

  async stop(deadlineMs: number): Promise<void> {
    // Real time, not the injected clock: this waits on the network, and must end.
    const end = performance.now() + deadlineMs;
    this.draining = true;
    this.pump();
    while (this.st === 'online' && performance.now() < end) {
      const idle = this.sentAt.size === 0 && this.lanes.idle();
      if (idle && this.eventsInflight.size === 0) break;
      this.pump();
      await new Promise((r) => setTimeout(r, 20));
    }
    this.stopping = true;
    this.redial.stop();
    this.lanes.close();
    this.cancelWatchdog?.();
    const client = this.client;
    const last = this.dialect.closing();
    if (client && this.st === 'online' && last) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 1000);
        client.publish(last.topic, last.payload, { qos: last.qos, ...(last.retain ? { retain: true } : {}) }, () => {
          clearTimeout(t);
          resolve();
        });
      });
      if (this.dialect.disconnectCleanly) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, 1000);
          client.end(false, {}, () => {
            clearTimeout(t);
            resolve();
          });
        });
      }
    }
    this.down(this.gen, new Error('stopped'));
    this.st = 'stopped';
  }

  /** A connection is open (`online` or `stalled`). */
  connected(): boolean {
    return this.st === 'online';
  }

  stats(): UplinkStats {
    const now = this.o.clock.mono();
    this.acks.observe(this.s.ackedReadings, now, this.o.clock.now());
    let oldest: number | undefined;
    for (const at of this.sentAt.values()) oldest = oldest === undefined ? at : Math.min(oldest, at);
    const s: UplinkStats = {
      state: this.acks.state(this.st, oldest, now, stallAfter(this.o.config.ack_timeout)),
      reconnects: this.s.reconnects,
      published: this.s.published,
      ackedReadings: this.s.ackedReadings,
      inflight: this.sentAt.size,
      window: this.window,
      insecure: this.broker.insecure,
      broker: this.broker.url,
      probes: this.redial.counts.probes,
      attempts: this.redial.counts.attempts,
    };
    const wire = this.wire.totals();
    s.bytesSent = wire.sent;
    s.bytesReceived = wire.received;
    const lat = this.ackLatency.snapshot();
    if (lat.count > 0) s.ackLatency = { ...lat, p50: this.ackLatency.quantile(0.5) as number, p99: this.ackLatency.quantile(0.99) as number };
    if (this.acks.lastWall !== undefined) s.lastAckAt = this.acks.lastWall;
    if (this.acks.lastMono !== undefined) s.sinceAckMs = Math.round(now - this.acks.lastMono);
    if (this.s.connectedSince !== undefined && this.st === 'online') s.connectedSince = this.s.connectedSince;
    if (this.s.lastError !== undefined) s.lastError = this.s.lastError;
    if (this.s.lastErrorAt !== undefined) s.lastErrorAt = this.s.lastErrorAt;
    return s;
  }
}

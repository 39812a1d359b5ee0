/**
 * The MQTT uplink (mqtt.js 5). See uplink.ts for the contract; here, why it works
 * the way it does (docs/field-notes.md, MQTT section):
 * - Nothing is ever queued inside mqtt.js: we publish only while `online`, at most
 *   `window` data messages awaiting PUBACK (≤ the broker's Receive Maximum), so the
 *   message-id wrap that silently drops QoS 1 publishes can never happen (delivery.ts).
 * - Every connection attempt is a fresh client with reconnectPeriod 0 (attempt.ts). A
 *   generation counter makes callbacks of dead clients harmless; `end(true)` leaves publish
 *   callbacks unsettled, and we never wait on them. When and where to try again is
 *   the Redialer's (redial.ts: TCP probes while unreachable, backoff after refusals,
 *   several brokers in turn); what the log says meanwhile, the OutageLog's (outage-log.ts).
 * - A watchdog treats a PUBACK later than `ack_timeout`, or a connect attempt that
 *   neither connects nor fails, as a dead link: drop the client, reconnect.
 * - After any disconnect, everything not acknowledged is re-read from the buffer and
 *   sent again: duplicates around a reconnect, never a gap.
 * This file holds the connection's life (attempt, online, down, watchdog, stop) and the
 * publishing hooks of the dialect and the commands.
 */
import type { IConnackPacket, MqttClient } from 'mqtt';
import { describeError } from '../core/errors.js';
import { WireBytes } from './wire-bytes.js';
import { subscribeDownlink, type DownlinkListener } from './downlink-subscription.js';
import { clientOptions } from './client-options.js';
import { ProtocolChoice } from './protocol-choice.js';
import { parseBrokers, type Broker } from './brokers.js';
import { tcpReachable } from './reachability.js';
import { Redialer } from './redial.js';
import { failureKind } from './reconnect-policy.js';
import { NetWatch } from './net-watch.js';
import { AckWatch, TakeoverWatch, stallAfter, takeoverHint } from './link-state.js';
import { Attempt, type AttemptHooks } from './attempt.js';
import { Delivery, type UplinkParts } from './delivery.js';
import { OutageLog } from './outage-log.js';
import type { Dialect, DialectLink, WireMessage } from './dialects/dialect.js';
import { CitygateDialect } from './dialects/citygate.js';
import type { Uplink, UplinkState, UplinkStats } from './uplink.js';

export type { DownlinkListener };

export interface MqttUplinkOptions extends UplinkParts {
  version: string;
  startedAt: number;
  /** Called each time the link comes up, after the retained status is sent (the gateway publishes its health then); must not throw. */
  onOnline?: () => void;
  /** What goes on the wire (src/uplink/dialects/dialect.ts); default citygate's own topics. */
  dialect?: Dialect;
}

/** Online this long, a connection resets the reconnect backoff. */
const STABLE_MS = 30_000;
/** While offline, the network interfaces are compared every this many watchdog ticks (seconds). */
const NET_POLL_TICKS = 5;

export class MqttUplink implements Uplink {
  private client: MqttClient | undefined;
  private gen = 0;
  private st: UplinkState = 'offline';
  private stopping = false;
  private cancelWatchdog: (() => void) | undefined;
  private readonly brokers: Broker[];
  private broker: Broker;
  private readonly redial: Redialer;
  private readonly acks = new AckWatch();
  private readonly net = new NetWatch();
  private ticks = 0;
  private readonly takeover = new TakeoverWatch();
  /** This connection's attempt: its last error, and whether the broker sent DISCONNECT 0x8E. */
  private attempt: Attempt | undefined;
  private onlineAtMono = 0;
  private readonly s = { reconnects: 0, connects: 0 } as { reconnects: number; connects: number; connectedSince?: number };
  private downlink: DownlinkListener | undefined;
  /** MQTT 5 as configured, or 3.1.1 after a broker showed it speaks nothing else. */
  private readonly protocol: ProtocolChoice;
  private readonly wire = new WireBytes();
  /** Data and events from the buffer, their window and acknowledgements. */
  private readonly delivery: Delivery;
  /** Counts and log lines while the link is down; the link's last error. */
  private readonly outage: OutageLog;
  /** What goes on the wire; the buffer, lanes and acknowledgements below it are the same for all. */
  readonly dialect: Dialect;

  constructor(private readonly o: MqttUplinkOptions) {
    this.dialect = o.dialect ?? new CitygateDialect({ topics: o.topics, version: o.version, startedAt: o.startedAt });
    const link: DialectLink = {
      publish: (m, done) => this.publishWire(m, done),
      reconnect: (reason, last) => this.reconnectFor(reason, last),
      wake: () => this.delivery.pump(),
      protocolVersion: () => this.protocol.version,
    };
    this.dialect.attach(link);
    this.protocol = new ProtocolChoice(o.config.protocol_version);
    this.delivery = new Delivery({
      ...o,
      dialect: this.dialect,
      link: {
        client: () => this.client,
        online: () => this.st === 'online',
        gen: () => this.gen,
        broker: () => this.broker.url,
        down: (g, err) => this.down(g, err),
        reconnect: (reason) => this.reconnectFor(reason),
        acked: () => this.redial.reset(),
        failed: (text, at) => this.outage.failed(text, at),
      },
    });
    this.outage = new OutageLog({ clock: o.clock, log: o.log, buffer: o.buffer, broker: () => this.broker, pending: () => this.redial.pending() });
    this.brokers = parseBrokers(o.config.url);
    this.broker = this.brokers[0] as Broker;
    const r = o.config.reconnect;
    this.redial = new Redialer(this.brokers, { min: r.min, max: r.max, probe: r.probe }, o.clock, {
      probe: (b) => {
        this.outage.probed();
        return tcpReachable(b.host, b.port, o.config.connect_timeout);
      },
      scheduled: (b, action, delay) => o.log.debug({ delay, action, broker: b.url }, 'uplink: reconnect scheduled'),
      connect: (b) => this.connect(b),
      reachable: (b, probes) => this.outage.reachable(b, probes),
    });
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
    this.attempt = undefined;
    this.outage.attempt();
    let attempt: Attempt;
    try {
      const options = clientOptions(this.o.config, this.o.gatewayId, this.o.topics, broker.url, this.protocol.version, this.dialect.will() ?? null);
      attempt = new Attempt(broker.url, options, this.o.clock, this.o.config.connect_timeout, this.attemptHooks(g));
    } catch (err) {
      this.outage.noteError(`cannot connect: ${describeError(err)}`);
      this.st = 'offline';
      this.redial.failed(failureKind(err));
      return;
    }
    this.attempt = attempt;
    this.client = attempt.client;
    this.wire.attach(attempt.client.stream);
  }

  /** What the attempt of generation `g` reports. */
  private attemptHooks(g: number): AttemptHooks {
    return {
      current: () => g === this.gen,
      connected: (connack) => this.online(connack),
      error: (text) => this.outage.noteError(text),
      closed: (code, reached) => {
        if (this.st === 'connecting') this.protocol.failed(code, reached);
        this.down(g, new Error(this.outage.lastError ?? 'connection closed'));
      },
      noConnack: () => {
        if (this.st === 'connecting') this.down(g, new Error(`no CONNACK within ${this.o.config.connect_timeout}ms`));
      },
    };
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
    this.delivery.limits(connack.properties);
    this.outage.online({ window: this.delivery.window, maxPacket: this.delivery.maxPacket, reconnects: this.s.reconnects, again: this.s.connects > 1 });
    this.dialect.online();
    // SUBSCRIBE before anything the gateway publishes on going online (health): a Sparkplug
    // node's first ready() sends NBIRTH, which must follow its NCMD/DCMD subscription.
    this.subscribeDownlink();
    this.o.onOnline?.();
    this.delivery.linkUp();
    this.delivery.pump();
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
    if (wasOnline) this.outage.dropped();
    const livedMs = wasOnline ? this.o.clock.mono() - this.onlineAtMono : 0;
    // A connection that held for a while was a success, even if it carried no data.
    if (wasOnline && livedMs > STABLE_MS) this.redial.reset();
    const takenOver = this.attempt?.takenOver ?? false;
    const failure = this.attempt?.failure;
    if (wasOnline && !this.stopping && this.takeover.ended({ takenOver, clean: failure === undefined, livedMs })) {
      const clientId = this.o.config.client_id ?? `citygate-${this.o.gatewayId}`;
      this.o.log.error({ broker: this.broker.url, client_id: clientId }, takeoverHint(clientId, this.o.gatewayId, this.o.config.protocol_version === 5));
    }
    this.st = this.stopping ? 'stopped' : 'offline';
    this.delivery.linkDown();
    this.dialect.down();
    try {
      this.o.buffer.flushAcks();
    } catch (err) {
      this.o.log.error(`uplink: applying acknowledgements failed: ${describeError(err)}`);
    }
    const why = takenOver ? 'another client took the session (DISCONNECT 0x8E)' : describeError(reason);
    if (wasOnline && !this.stopping) this.o.log.warn({ broker: this.broker.url }, `uplink offline: ${why}`);
    // Taken over: fighting back every few seconds would only kick the other client out.
    if (!this.stopping) this.redial.failed(takenOver || this.takeover.suspect ? 'refused' : failureKind(failure ?? reason));
  }

  private watchdog(): void {
    this.cancelWatchdog = this.o.clock.setTimer(1000, () => {
      if (this.stopping && this.st !== 'online') return;
      const now = this.o.clock.mono();
      this.acks.observe(this.delivery.ackedReadings, now, this.o.clock.now());
      this.outage.summary(now, this.st === 'online' || this.stopping);
      // Every NET_POLL_TICKS seconds while offline: a changed network ends the wait.
      if (this.st === 'offline' && ++this.ticks % NET_POLL_TICKS === 0 && this.net.changed() && this.redial.networkChanged()) {
        this.o.log.info({ broker: this.broker.url }, 'uplink: the network changed; trying the broker now');
      }
      if (this.delivery.overdue(now)) this.down(this.gen, new Error(`no PUBACK within ${this.o.config.ack_timeout}ms: link stuck`));
      this.watchdog();
    });
  }

  notify(): void {
    this.delivery.committed();
    this.delivery.pump();
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
      if (size <= this.delivery.maxPacket) {
        this.publishWire(wire);
        return;
      }
    }
    this.o.log.warn({ maxPacket: this.delivery.maxPacket }, 'uplink: health snapshot larger than the broker accepts: not sent');
  }

  async stop(deadlineMs: number): Promise<void> {
    // Real time, not the injected clock: this waits on the network, and must end.
    const end = performance.now() + deadlineMs;
    this.delivery.drain();
    this.delivery.pump();
    while (this.st === 'online' && performance.now() < end) {
      if (this.delivery.idle()) break;
      this.delivery.pump();
      await new Promise((r) => setTimeout(r, 20));
    }
    this.stopping = true;
    this.redial.stop();
    this.delivery.close();
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
    const d = this.delivery;
    this.acks.observe(d.ackedReadings, now, this.o.clock.now());
    const s: UplinkStats = {
      state: this.acks.state(this.st, d.oldestInflight(), now, stallAfter(this.o.config.ack_timeout)),
      reconnects: this.s.reconnects,
      published: d.published,
      ackedReadings: d.ackedReadings,
      inflight: d.inflight,
      window: d.window,
      insecure: this.broker.insecure,
      broker: this.broker.url,
      probes: this.redial.counts.probes,
      attempts: this.redial.counts.attempts,
    };
    const wire = this.wire.totals();
    s.bytesSent = wire.sent;
    s.bytesReceived = wire.received;
    const lat = d.ackLatency.snapshot();
    if (lat.count > 0) s.ackLatency = { ...lat, p50: d.ackLatency.quantile(0.5) as number, p99: d.ackLatency.quantile(0.99) as number };
    if (this.acks.lastWall !== undefined) s.lastAckAt = this.acks.lastWall;
    if (this.acks.lastMono !== undefined) s.sinceAckMs = Math.round(now - this.acks.lastMono);
    if (this.s.connectedSince !== undefined && this.st === 'online') s.connectedSince = this.s.connectedSince;
    if (this.outage.lastError !== undefined) s.lastError = this.outage.lastError;
    if (this.outage.lastErrorAt !== undefined) s.lastErrorAt = this.outage.lastErrorAt;
    return s;
  }
}

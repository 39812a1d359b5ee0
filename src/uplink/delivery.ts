/**
 * The buffer onto the wire, over whichever connection the uplink has open: data messages
 * from the lanes (lane-pump.ts) and buffered events, published QoS 1, deleted from the
 * buffer only on their PUBACK. The uplink (mqtt-uplink.ts) calls:
 * - `limits(props)` on CONNACK, `linkUp()` once the session's opening messages are out,
 *   `linkDown()` when the connection is gone: every flight is forgotten, and what was not
 *   acknowledged is read again from the buffer on the next connection;
 * - `pump()` whenever something may be sent: while the link is online and the dialect
 *   ready, at most `window` data messages await PUBACK (≤ the broker's Receive Maximum, so
 *   mqtt.js never queues) and one event. Never throws: a buffer that cannot be read is
 *   logged and noted as the link's last error;
 * - `overdue(now)` from its watchdog: a data message waited longer than `ack_timeout`.
 * A PUBACK of an older connection does nothing. A publish that fails takes its connection
 * down; one the broker refuses (PUBACK ≥ 0x80) holds that kind while the link stays up for
 * everything else, and renews the link after the hold (publish-refusal.ts).
 */
import type { IConnackPacket, MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { Clock } from '../core/clock.js';
import { describeError } from '../core/errors.js';
import { Histogram } from '../core/histogram.js';
import type { DurableBuffer } from '../buffer/buffer.js';
import type { UplinkConfig } from '../config/schema.js';
import { LanePump } from './lane-pump.js';
import type { LaneMessage } from './lanes.js';
import { RefusalHold, describeRefusal, pubackRefusal } from './publish-refusal.js';
import type { Topics } from './topics.js';
import type { Dialect } from './dialects/dialect.js';

/** MQTT's own ceiling for a packet (256 MiB), used when the broker states none. */
const MQTT_MAX_PACKET = 268_435_455;
/** Slots of the broker's Receive Maximum kept for status and events. */
const RESERVED_SLOTS = 2;

/** What the delivery needs of the uplink's connection. */
export interface DeliveryLink {
  /** The client of the current connection, if any. */
  client(): MqttClient | undefined;
  /** The current connection is online (CONNACK received, not dropped). */
  online(): boolean;
  /** The current connection's generation: callbacks of an older one are ignored. */
  gen(): number;
  /** URL of the current broker, for log lines. */
  broker(): string;
  /** The connection of generation `g` failed: drop it, redial. */
  down(g: number, err: unknown): void;
  /** Renew the session: drop the connection, redial. */
  reconnect(reason: string): void;
  /** A data message was acknowledged: the broker of this connection is good. */
  acked(): void;
  /** Note the link's last error (with its wall-clock time when `at` is given). */
  failed(text: string, at?: number): void;
}

/** What the uplink and its delivery both work with. */
export interface UplinkParts {
  config: UplinkConfig;
  gatewayId: string;
  topics: Topics;
  buffer: DurableBuffer;
  clock: Clock;
  log: Logger;
}

export interface DeliveryOptions extends UplinkParts {
  dialect: Dialect;
  link: DeliveryLink;
}

export class Delivery {
  /** Data messages acknowledged since start. */
  published = 0;
  /** Readings acknowledged since start. */
  ackedReadings = 0;
  /** PUBACK latency of data messages, ms (bounds fit a LAN to a 2G link). */
  readonly ackLatency = new Histogram([25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000]);
  private readonly lanes: LanePump;
  /** Data messages awaiting PUBACK: flight id → monotonic ms sent. */
  private readonly sentAt = new Map<number, number>();
  private serial = 0;
  private win: number;
  private packetMax = MQTT_MAX_PACKET;
  private readonly eventsInflight = new Set<number>();
  private pumping = false;
  private draining = false;
  /** Data and events the broker refused (PUBACK ≥ 0x80) wait here, the link kept (publish-refusal.ts). */
  private readonly held = { data: new RefusalHold(), events: new RefusalHold() };

  constructor(private readonly o: DeliveryOptions) {
    this.win = o.config.inflight;
    this.lanes = new LanePump(o.config, o.gatewayId, o.buffer, o.clock, () => this.pump());
  }

  /** Data messages awaiting PUBACK at most: `inflight`, lowered to fit the broker's Receive Maximum. */
  get window(): number {
    return this.win;
  }

  /** The broker's Maximum Packet Size (MQTT's own ceiling when it states none). */
  get maxPacket(): number {
    return this.packetMax;
  }

  /** Data messages awaiting PUBACK now. */
  get inflight(): number {
    return this.sentAt.size;
  }

  /** Monotonic ms the oldest data message awaiting PUBACK was sent; undefined: none. */
  oldestInflight(): number | undefined {
    let oldest: number | undefined;
    for (const at of this.sentAt.values()) oldest = oldest === undefined ? at : Math.min(oldest, at);
    return oldest;
  }

  /** A data message waits longer than `ack_timeout` for its PUBACK at `now` (mono ms). */
  overdue(now: number): boolean {
    for (const at of this.sentAt.values()) {
      if (now - at > this.o.config.ack_timeout) return true;
    }
    return false;
  }

  /** Nothing awaits PUBACK and the lanes have nothing left to send. */
  idle(): boolean {
    return this.sentAt.size === 0 && this.lanes.idle() && this.eventsInflight.size === 0;
  }

  /** The broker's limits from its CONNACK. */
  limits(props: IConnackPacket['properties']): void {
    const rm = props?.receiveMaximum ?? 65_535;
    this.win = Math.max(1, Math.min(this.o.config.inflight, rm - RESERVED_SLOTS));
    this.packetMax = props?.maximumPacketSize ?? MQTT_MAX_PACKET;
  }

  /** The link is up: the lanes start (the live lane from now). */
  linkUp(): void {
    this.lanes.linkUp();
  }

  /** The connection is gone: every flight is forgotten. */
  linkDown(): void {
    this.sentAt.clear();
    this.eventsInflight.clear();
    this.lanes.linkDown();
  }

  /** New data was committed to the buffer. */
  committed(): void {
    this.lanes.committed();
  }

  /** Stopping: send what is left without waiting for fuller batches. */
  drain(): void {
    this.draining = true;
  }

  /** Stopped: no more sampling. */
  close(): void {
    this.lanes.close();
  }

  pump(): void {
    if (!this.o.link.online() || this.pumping) return;
    this.pumping = true;
    // One write for everything this pump sends (mqtt.js writes each packet on its own).
    const stream = (this.o.link.client() as unknown as { stream?: { cork?: () => void; uncork?: () => void } } | undefined)?.stream;
    stream?.cork?.();
    try {
      // The dialect's gate (Sparkplug: births first, nothing while the primary host is offline).
      if (!this.o.dialect.ready()) return;
      this.pumpEvents();
      const maxBytes = Math.min(this.packetMax, MQTT_MAX_PACKET) - 64 - Buffer.byteLength(this.o.topics.data('x')) - 64;
      while (this.sentAt.size < this.win && !this.held.data.holding(this.o.clock.mono())) {
        const m = this.lanes.next({ inflight: this.sentAt.size, window: this.win, maxBytes, draining: this.draining });
        if (!m) break;
        this.send(m);
      }
    } catch (err) {
      const text = describeError(err);
      this.o.link.failed(text);
      this.o.log.error(`uplink: reading the buffer failed: ${text}`);
    } finally {
      this.pumping = false;
      stream?.uncork?.();
    }
  }

  private send(m: LaneMessage): void {
    const client = this.o.link.client();
    if (!client) return;
    // The dialect's form first: should it throw, no flight is left waiting for a PUBACK.
    const wire = this.o.dialect.data(m);
    const g = this.o.link.gen();
    const id = ++this.serial;
    const sentAt = this.o.clock.mono();
    this.sentAt.set(id, sentAt);
    this.lanes.sent(id, m);
    client.publish(wire.topic, wire.payload, { qos: 1, ...(wire.retain ? { retain: true } : {}), ...(wire.properties ? { properties: wire.properties } : {}) }, (err) => {
      if (g !== this.o.link.gen()) return;
      this.sentAt.delete(id);
      if (err) return this.publishFailed(g, err, 'data', wire.topic);
      this.held.data.accepted();
      this.lanes.acked(id);
      this.ackLatency.observe(this.o.clock.mono() - sentAt);
      this.o.buffer.ack(m.ackRows);
      this.published++;
      this.ackedReadings += m.readings;
      this.o.link.acked();
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
    if (code === undefined) return this.o.link.down(g, err);
    const now = this.o.clock.mono();
    const hold = this.held[kind];
    if (hold.holding(now)) return; // the rest of the window, refused with the first
    const ms = hold.refused(now);
    const text = `broker refused ${kind} on ${topic}: ${describeRefusal(code)}; nothing is deleted, sent again in ${Math.round(ms / 1000)} s`;
    this.o.link.failed(text, this.o.clock.now());
    this.o.log.error({ broker: this.o.link.broker(), reason: code }, `uplink: ${text}`);
    this.o.clock.setTimer(ms, () => {
      if (g === this.o.link.gen()) this.o.link.reconnect(`sending the ${kind} the broker refused again`);
    });
  }

  private pumpEvents(): void {
    if (this.eventsInflight.size > 0 || !this.o.link.client() || this.held.events.holding(this.o.clock.mono()) || !this.o.buffer.hasEvents()) return;
    // Events without a wire form in this dialect are done at once (bounded: a few per pump).
    let ev = this.o.buffer.readEvents(1)[0];
    let wire = ev && this.o.dialect.event(ev.payload);
    for (let skipped = 0; ev && !wire && skipped < 16; skipped++) {
      this.o.buffer.ackEvent(ev.id);
      ev = this.o.buffer.readEvents(1)[0];
      wire = ev && this.o.dialect.event(ev.payload);
    }
    if (!ev || !wire) return;
    const g = this.o.link.gen();
    const id = ev.id;
    this.eventsInflight.add(id);
    // The client read again: the dialect's own publishes above may have ended the connection.
    (this.o.link.client() as MqttClient).publish(wire.topic, wire.payload, { qos: 1, ...(wire.retain ? { retain: true } : {}) }, (err) => {
      if (g !== this.o.link.gen()) return;
      this.eventsInflight.delete(id);
      if (err) return this.publishFailed(g, err, 'events', wire.topic);
      this.held.events.accepted();
      this.o.buffer.ackEvent(id);
      this.pump();
    });
  }
}

/**
 * The Sparkplug B 3.0 edge node (`uplink.dialect: sparkplug`, docs/sparkplug.md): the
 * Dialect (../dialect.ts) that puts citygate's buffer, events and commands on Sparkplug's
 * topics. The session, per MQTT connection:
 *
 *   CONNECT (will: NDEATH with a new bdSeq) → subscribe NCMD, DCMD (and STATE of the primary
 *   host) → [primary host: wait for STATE online] → NBIRTH (seq 0) → DBIRTH of every live
 *   device → DDATA / NDATA (seq +1 each, wrapping 255 → 0) … → NDEATH (clean stop) or the will.
 *
 * - `ready()` is the gate: false until the primary host is online (nothing is published
 *   meanwhile, the buffer keeps everything); when it opens the births go first.
 * - A device's DBIRTH/DDEATH follow its device_state events (down → DDEATH; ok or degraded
 *   → DBIRTH); a device sending data is born first.
 * - Rebirth (NCMD `Node Control/Rebirth` true): NBIRTH (seq 0, same bdSeq) and every DBIRTH again.
 * - STATE offline from the primary host: NDEATH, disconnect, reconnect (a new bdSeq), and
 *   wait for it to be online again. Data kept meanwhile comes out marked is_historical.
 * Every message with a seq goes QoS 1, where the spec says 0 (docs/sparkplug.md, deviations): data
 * needs its PUBACK to leave the buffer, and a broker may reorder messages of different QoS
 * across topics (aedes does: a QoS 0 DBIRTH overtook a QoS 1 NDATA published before it), which
 * would break the one seq order a host checks. One QoS keeps one order.
 */
import type { Logger } from 'pino';
import type { Clock } from '../../../core/clock.js';
import { describeError } from '../../../core/errors.js';
import type { CommandReplyPayload, DataPayload, EventPayload } from '../../../core/payloads.js';
import { decodeDataPayload } from '../../encoding/decode.js';
import type { LaneMessage } from '../../lanes.js';
import type { CommandRequest, CommandRoute, Dialect, DialectLink, WireMessage } from '../dialect.js';
import { BdSeq } from './bdseq.js';
import { decodePayload, toNumber, type UMetric, type UPayload } from './codec.js';
import { dcmdRequests, ncmdRequests, type PlainRequest } from './commands.js';
import { COMMAND_REPLY, EVENT, HEALTH, REBIRTH, VERSION, dbirth, ddata, ddeath, nbirth, ndataText, ndeath, type DataMetric } from './messages.js';
import { MetricCatalogue, configuredType } from './metrics.js';
import { SparkplugTopics } from './topics.js';

/** The QoS of every message carrying a seq (see above). */
const SEQ_QOS = 1;

export interface SparkplugDialectOptions {
  group: string;
  edgeNode: string;
  primaryHost?: string;
  /** Devices of the config, for the first births (their points, datatypes, units) and DCMD routing. */
  devices: readonly { id: string; driver: string; enabled: boolean; points?: unknown }[];
  dataDir: string;
  version: string;
  clock: Clock;
  log: Logger;
}

export class SparkplugDialect implements Dialect {
  readonly name = 'sparkplug' as const;
  /** The NDEATH is published before a DISCONNECT; the will is for deaths we cannot announce. */
  readonly disconnectCleanly = true;
  readonly topics: SparkplugTopics;
  readonly commands: CommandRoute;
  private link: DialectLink | undefined;
  private readonly bdSeq: BdSeq;
  private readonly metrics = new MetricCatalogue();
  private readonly drivers = new Map<string, string>();
  /** This connection's bdSeq (the will's). */
  private sessionBdSeq = 0;
  private connected = false;
  private hostOnline: boolean;
  /** Newest STATE timestamp seen: older ones are stale (retained copies, reordering). */
  private stateTs = -Infinity;
  private born = false;
  private birthTs = 0;
  private seq = 0;
  private readonly deviceBorn = new Set<string>();
  /** Devices whose last device_state was `down`: no DBIRTH until they recover or send data. */
  private readonly deviceDown = new Set<string>();

  constructor(private readonly o: SparkplugDialectOptions) {
    this.topics = new SparkplugTopics(o.group, o.edgeNode);
    this.bdSeq = new BdSeq(o.dataDir, o.log);
    this.hostOnline = o.primaryHost === undefined;
    this.metrics.node(VERSION, 'String').last = { value: o.version, ts: o.clock.now() };
    for (const name of [EVENT, HEALTH, COMMAND_REPLY]) this.metrics.node(name, 'String');
    for (const d of o.devices) {
      if (!d.enabled) continue;
      this.drivers.set(d.id, d.driver);
      const points = Array.isArray(d.points) ? (d.points as Record<string, unknown>[]) : [];
      for (const p of points) if (typeof p.name === 'string') this.metrics.declare(d.id, p.name, configuredType(p), typeof p.unit === 'string' ? p.unit : undefined);
    }
    const filters = [this.topics.node('NCMD'), this.topics.allDeviceCommands];
    if (o.primaryHost !== undefined) filters.push(SparkplugTopics.state(o.primaryHost));
    this.commands = { filters, requests: (topic, payload) => this.incoming(topic, payload) };
  }

  attach(link: DialectLink): void {
    this.link = link;
  }

  will(): WireMessage {
    this.sessionBdSeq = this.bdSeq.next();
    return this.ndeathMessage();
  }

  online(): void {
    this.connected = true;
    this.born = false;
    this.deviceBorn.clear();
    // Each connection learns the host's state afresh (the retained STATE arrives on subscribe).
    this.hostOnline = this.o.primaryHost === undefined;
    if (!this.hostOnline) this.o.log.info(`sparkplug: connected; waiting for primary host ${this.o.primaryHost} to be online (${SparkplugTopics.state(this.o.primaryHost as string)}) before NBIRTH — readings are kept meanwhile`);
  }

  ready(): boolean {
    if (!this.connected || !this.hostOnline) return false;
    if (!this.born) this.birth();
    return this.born;
  }

  data(m: LaneMessage): WireMessage {
    const msg = decodeDataPayload(m.payload);
    const device = msg.device;
    const now = this.o.clock.now();
    const metrics: DataMetric[] = [];
    let rebirth = !this.deviceBorn.has(device);
    for (const r of msg.readings) {
      const o = this.metrics.observe(device, r);
      rebirth ||= o.rebirth;
      metrics.push({ def: o.def, reading: r, historical: isHistorical(msg, r.ts, this.birthTs) });
    }
    // Readings from a device show it is there: born first (its birth lists every metric).
    if (rebirth) this.deviceBirth(device, now);
    return { topic: this.topics.device('DDATA', device), payload: ddata(this.nextSeq(), metrics, now), qos: 1 };
  }

  event(json: string): WireMessage | undefined {
    let e: EventPayload | undefined;
    try {
      e = JSON.parse(json) as EventPayload;
    } catch {
      e = undefined;
    }
    const now = this.o.clock.now();
    if (e?.type === 'device_state') this.deviceState(e.device, e.to, now);
    // Every event (loss announcements first of all) as it is, in the node's citygate/event metric.
    return { topic: this.topics.node('NDATA'), payload: ndataText(this.nextSeq(), this.metrics.node(EVENT, 'String'), json, now), qos: 1 };
  }

  health(text: string): WireMessage {
    return { topic: this.topics.node('NDATA'), payload: ndataText(this.nextSeq(), this.metrics.node(HEALTH, 'String'), text, this.o.clock.now()), qos: SEQ_QOS };
  }

  closing(): WireMessage | undefined {
    return this.connected ? this.ndeathMessage() : undefined;
  }

  down(): void {
    this.connected = false;
    this.born = false;
    this.deviceBorn.clear();
  }

  // ---- session ------------------------------------------------------------------------

  private nextSeq(): number {
    const s = this.seq;
    this.seq = (this.seq + 1) % 256;
    return s;
  }

  private ndeathMessage(): WireMessage {
    return { topic: this.topics.node('NDEATH'), payload: ndeath(this.sessionBdSeq, this.o.clock.now()), qos: 1 };
  }

  /** NBIRTH (seq 0) and the DBIRTH of every device not known to be down. */
  private birth(): void {
    const link = this.link;
    if (!link) return;
    const now = this.o.clock.now();
    this.deviceBorn.clear();
    this.seq = 0;
    if (!link.publish({ topic: this.topics.node('NBIRTH'), payload: nbirth(this.sessionBdSeq, this.metrics.nodeMetrics(), now), qos: SEQ_QOS })) return;
    this.nextSeq();
    this.born = true;
    this.birthTs = now;
    for (const device of this.metrics.deviceIds()) if (!this.deviceDown.has(device)) this.deviceBirth(device, now);
  }

  private deviceBirth(device: string, now: number): void {
    this.deviceDown.delete(device);
    this.link?.publish({ topic: this.topics.device('DBIRTH', device), payload: dbirth(this.nextSeq(), this.metrics.deviceMetrics(device), now), qos: SEQ_QOS });
    this.deviceBorn.add(device);
  }

  /** DDEATH and DBIRTH follow device_state: down is dead, ok and degraded are alive. */
  private deviceState(device: string, to: string, now: number): void {
    if (to === 'down') {
      this.deviceDown.add(device);
      if (this.deviceBorn.delete(device)) this.link?.publish({ topic: this.topics.device('DDEATH', device), payload: ddeath(this.nextSeq(), now), qos: SEQ_QOS });
    } else if (!this.deviceBorn.has(device)) {
      this.deviceBirth(device, now);
    }
  }

  // ---- downlink -------------------------------------------------------------------------

  private incoming(topic: string, payload: Buffer): CommandRequest[] {
    const t = this.topics.parse(topic);
    if (!t) return [];
    if (t.kind === 'STATE') {
      if (t.host === this.o.primaryHost) this.hostState(payload);
      return [];
    }
    if ((t.kind !== 'NCMD' && t.kind !== 'DCMD') || t.node !== this.o.edgeNode) return [];
    let p: UPayload;
    try {
      p = decodePayload(payload);
    } catch (err) {
      this.o.log.warn({ topic }, `sparkplug: ${t.kind} is not a Sparkplug B payload (${describeError(err)}); ignored`);
      return [];
    }
    const metrics = (p.metrics ?? []) as UMetric[];
    if (t.kind === 'DCMD') {
      const ts = toNumber(p.timestamp ?? undefined) ?? this.o.clock.now();
      return this.asRequests(dcmdRequests(t.device, this.drivers.get(t.device), metrics, ts, this.metrics));
    }
    const nameOf = (m: UMetric): string | undefined => {
      if (typeof m.name === 'string' && m.name !== '') return m.name;
      const alias = toNumber(m.alias ?? undefined);
      return this.metrics.nodeMetrics().find((d) => d.alias === alias)?.name;
    };
    if (metrics.some((m) => nameOf(m) === REBIRTH && m.value === true)) this.rebirth();
    return this.asRequests(ncmdRequests(metrics, nameOf));
  }

  private asRequests(reqs: PlainRequest[]): CommandRequest[] {
    return reqs.map((r) => ({ ...r, reply: (answer: CommandReplyPayload) => this.reply(answer) }));
  }

  private reply(answer: CommandReplyPayload): WireMessage | undefined {
    // Only inside a born session: an NDATA before NBIRTH would break the host's view.
    if (!this.connected || !this.born) return undefined;
    return { topic: this.topics.node('NDATA'), payload: ndataText(this.nextSeq(), this.metrics.node(COMMAND_REPLY, 'String'), JSON.stringify(answer), this.o.clock.now()), qos: 1 };
  }

  private rebirth(): void {
    this.o.log.info('sparkplug: rebirth requested (NCMD Node Control/Rebirth)');
    this.born = false;
    this.link?.wake();
  }

  private hostState(payload: Buffer): void {
    let s: { online?: unknown; timestamp?: unknown };
    try {
      s = JSON.parse(payload.toString('utf8')) as typeof s;
    } catch {
      this.o.log.warn(`sparkplug: STATE of ${this.o.primaryHost} is not JSON; ignored`);
      return;
    }
    const ts = typeof s.timestamp === 'number' ? s.timestamp : undefined;
    if (typeof s.online !== 'boolean' || ts === undefined) return;
    if (ts < this.stateTs) return; // an older state than one already seen
    this.stateTs = ts;
    if (s.online) {
      if (this.hostOnline) return;
      this.o.log.info(`sparkplug: primary host ${this.o.primaryHost} is online: publishing`);
      this.hostOnline = true;
      this.link?.wake();
      return;
    }
    const wasPublishing = this.hostOnline;
    this.hostOnline = false;
    if (!wasPublishing) return;
    // The node dies with the host and starts over, to be born again when the host is back.
    this.link?.reconnect(`primary host ${this.o.primaryHost} went offline (STATE)`, this.born ? this.ndeathMessage() : undefined);
  }
}

/** Store-and-forward: sent from the backlog, or read before this session's NBIRTH. */
function isHistorical(msg: DataPayload, ts: number, birthTs: number): boolean {
  return msg.replay === true || ts < birthTs;
}

/**
 * A TCP proxy between the gateway and the broker that the chaos run controls:
 * - `pass`: bytes flow both ways;
 * - `cut`: every connection is dropped and new ones are closed at once (the gateway
 *   sees the link go down);
 * - `blackhole`: connections stay open (new ones are accepted too) but nothing is
 *   forwarded, like a dead cellular bearer; the gateway must notice by itself
 *   (keepalive, ack timeout). On heal the black-holed connections are dropped: bytes
 *   went missing mid-stream, so they cannot carry on.
 * A tap parses what it forwards as MQTT (mqtt-packet): the seqs in each data PUBLISH
 * (JSON or compact, decoded with src/uplink/encoding/decode.ts),
 * then the broker's PUBACK for that packet id, so the run knows which seqs the broker
 * took responsibility for; events published by the gateway are reported too.
 */
import net from 'node:net';
import mqttPacket, { type Packet } from 'mqtt-packet';
import { freePort } from '../helpers/net.js';
import { decodeDataPayload } from '../../src/uplink/encoding/decode.js';

export type LinkMode = 'pass' | 'cut' | 'blackhole';

export interface TapListener {
  /** The broker PUBACKed a data message carrying these seqs. */
  acked(seqs: number[]): void;
  /** The gateway published (not yet acked) a data message carrying these seqs. */
  published(seqs: number[]): void;
  /** The broker PUBACKed an event message. */
  event(ev: Record<string, unknown>): void;
}

/** Per connection: packet id → what that PUBLISH carried, until its PUBACK. */
type Inflight = Map<number, { seqs: number[]; event?: Record<string, unknown> }>;

interface Conn {
  client: net.Socket;
  upstream: net.Socket | undefined;
  holed: boolean;
}

export class ChaosProxy {
  port = 0;
  mode: LinkMode = 'pass';
  connections = 0;
  private server: net.Server | undefined;
  private readonly conns = new Set<Conn>();

  constructor(
    private readonly target: () => number,
    private readonly root: string,
    private readonly tap: TapListener,
    private readonly protocolVersion: 4 | 5,
  ) {}

  async start(): Promise<void> {
    this.port = await freePort();
    this.server = net.createServer((s) => this.accept(s));
    await new Promise<void>((resolve, reject) => {
      this.server?.once('error', reject);
      this.server?.listen(this.port, '127.0.0.1', () => resolve());
    });
  }

  setMode(mode: LinkMode): void {
    const was = this.mode;
    this.mode = mode;
    if (mode === 'cut') for (const c of [...this.conns]) this.drop(c);
    if (mode === 'blackhole') for (const c of this.conns) c.holed = true;
    if (mode === 'pass' && was === 'blackhole') for (const c of [...this.conns]) if (c.holed) this.drop(c);
  }

  async close(): Promise<void> {
    for (const c of [...this.conns]) this.drop(c);
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private drop(c: Conn): void {
    c.client.destroy();
    c.upstream?.destroy();
    this.conns.delete(c);
  }

  private accept(client: net.Socket): void {
    client.on('error', () => undefined);
    if (this.mode === 'cut') {
      client.destroy();
      return;
    }
    this.connections++;
    const c: Conn = { client, upstream: undefined, holed: this.mode === 'blackhole' };
    this.conns.add(c);
    client.on('close', () => this.drop(c));
    if (c.holed) {
      client.on('data', () => undefined);
      return;
    }
    const upstream = net.connect({ port: this.target(), host: '127.0.0.1' });
    c.upstream = upstream;
    upstream.on('error', () => this.drop(c));
    upstream.on('close', () => this.drop(c));
    const inflight: Inflight = new Map();
    const toBroker = this.parser((p) => this.fromGateway(p, inflight));
    const toGateway = this.parser((p) => this.fromBroker(p, inflight));
    client.on('data', (d: Buffer) => {
      if (c.holed) return;
      toBroker.parse(d);
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      if (c.holed) return;
      toGateway.parse(d);
      client.write(d);
    });
  }

  private parser(onPacket: (p: Packet) => void): { parse(b: Buffer): void } {
    const p = mqttPacket.parser({ protocolVersion: this.protocolVersion });
    let broken = false;
    p.on('packet', onPacket);
    p.on('error', () => (broken = true));
    return { parse: (b) => void (broken || p.parse(b)) };
  }

  private fromGateway(p: Packet, inflight: Inflight): void {
    if (p.cmd !== 'publish' || p.qos === 0 || p.messageId === undefined) return;
    const payload = typeof p.payload === 'string' ? Buffer.from(p.payload) : p.payload;
    if (p.topic.startsWith(`${this.root}/data/`)) {
      let seqs: number[];
      try {
        // Either encoding (JSON or compact), through the shipped decoder.
        seqs = decodeDataPayload(payload).readings.map((r) => r.seq);
      } catch {
        return;
      }
      inflight.set(p.messageId, { seqs });
      this.tap.published(seqs);
    } else if (p.topic === `${this.root}/events`) {
      let body: unknown;
      try {
        body = JSON.parse(payload.toString());
      } catch {
        return;
      }
      inflight.set(p.messageId, { seqs: [], event: body as Record<string, unknown> });
    }
  }

  private fromBroker(p: Packet, inflight: Inflight): void {
    if (p.cmd !== 'puback' || p.messageId === undefined) return;
    const m = inflight.get(p.messageId);
    if (!m) return;
    inflight.delete(p.messageId);
    if (p.reasonCode !== undefined && p.reasonCode >= 0x80) return;
    if (m.event) this.tap.event(m.event);
    else this.tap.acked(m.seqs);
  }
}

/**
 * Watches a fleet from the broker: subscribes to `<root>/+/status` and `<root>/+/health`
 * (both retained, so a new watcher sees every gateway at once) and keeps the latest of
 * each per gateway. Gateways are keyed by the topic level under `--root`, which is the
 * gateway id with the default `topic_root` (citygate/<id>). Bounded: at most
 * `maxGateways` are tracked; payloads that are not JSON are counted and skipped.
 */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Retained, GatewayRow } from './model.js';
import { byTrouble, gatewayRow } from './model.js';

export interface FleetOptions {
  url: string;
  root: string;
  username?: string;
  password?: string;
  /** PEM contents for mqtts:// / wss://. */
  ca?: Buffer;
  /** Health older than this (seconds) is trouble (default 180: three missed 60 s snapshots). */
  staleAfterS?: number;
  maxGateways?: number;
}

export class FleetCollector {
  private client: MqttClient | undefined;
  private readonly gateways = new Map<string, Retained>();
  /** Messages that were not JSON objects. */
  malformed = 0;
  /** Changes since start (a cheap "something moved" counter). */
  changes = 0;

  constructor(private readonly o: FleetOptions) {}

  async start(timeoutMs = 10_000): Promise<void> {
    const opts: IClientOptions = {
      protocolVersion: 4,
      reconnectPeriod: 2000,
      connectTimeout: timeoutMs,
      clientId: `citygate-fleet-${process.pid}-${Math.floor(Math.random() * 1e6)}`,
      clean: true,
    };
    if (this.o.username !== undefined) opts.username = this.o.username;
    if (this.o.password !== undefined) opts.password = this.o.password;
    if (this.o.ca) opts.ca = this.o.ca;
    const client = mqtt.connect(this.o.url, opts);
    this.client = client;
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
    const connected = new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no connection to ${this.o.url} within ${timeoutMs / 1000}s — is the broker reachable?`)), timeoutMs);
      client.once('connect', () => {
        clearTimeout(t);
        resolve();
      });
      client.once('error', (err) => {
        clearTimeout(t);
        reject(new Error(`cannot watch ${this.o.url}: ${err.message}`));
      });
    });
    await connected.catch((err: unknown) => {
      this.client = undefined;
      client.end(true);
      throw err;
    });
    client.on('error', () => undefined); // reconnects by itself; the table shows stale ages
    const root = this.o.root.replace(/\/+$/, '');
    await client.subscribeAsync([`${root}/+/status`, `${root}/+/health`], { qos: 0 });
  }

  private onMessage(topic: string, payload: Buffer): void {
    const parts = topic.split('/');
    const kind = parts.pop();
    const id = parts.pop();
    if (!id || (kind !== 'status' && kind !== 'health')) return;
    let body: unknown;
    try {
      body = JSON.parse(payload.toString('utf8'));
    } catch {
      this.malformed++;
      return;
    }
    if (typeof body !== 'object' || body === null) return void this.malformed++;
    let g = this.gateways.get(id);
    if (!g) {
      if (this.gateways.size >= (this.o.maxGateways ?? 100_000)) return;
      this.gateways.set(id, (g = {}));
    }
    if (kind === 'status') g.status = body as Retained['status'];
    else g.health = body as Retained['health'];
    this.changes++;
  }

  get size(): number {
    return this.gateways.size;
  }

  /** Every gateway, most trouble first. */
  rows(nowMs = Date.now()): GatewayRow[] {
    const stale = this.o.staleAfterS ?? 180;
    return [...this.gateways].map(([id, r]) => gatewayRow(id, r, nowMs, stale)).sort(byTrouble);
  }

  async stop(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    if (c) await Promise.race([c.endAsync(true), new Promise((r) => setTimeout(r, 2000))]);
  }
}

/**
 * Watches a fleet from the broker: subscribes to `<root>/+/status` and `<root>/+/health`
 * (both retained, so a new watcher sees every gateway at once) and keeps the latest of
 * each per gateway. Gateways are keyed by the topic level under `--root`, which is the
 * gateway id with the default `topic_root` (citygate/<id>). Bounded: at most
 * `maxGateways` are tracked; payloads that are not JSON are counted and skipped.
 *
 * Truthful about what it cannot know (model.ts has the states):
 * - its own broker link: `brokerUp`; while it is down every row is `stale`;
 * - a retained status cleared (empty retained message) → `vanished`, kept in the view;
 *   after a reconnect, a gateway whose status is not sent again within `confirmMs`
 *   (the broker resends every retained message on subscribe) is `vanished` too;
 * - `expected` gateways never seen → `missing`.
 */
import { Topics } from '../uplink/topics.js';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Retained, GatewayRow } from './model.js';
import { byTrouble, gatewayRow, staleRow } from './model.js';

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
  /** Gateway ids that should be there: shown as `missing` until seen. */
  expected?: readonly string[];
  /** After a reconnect, how long the broker has to resend a gateway's retained status (default 15 s). */
  confirmMs?: number;
}

interface Tracked extends Retained {
  /** The connection (1, 2, …) in which the status was last received. */
  seenIn?: number;
}

export class FleetCollector {
  private client: MqttClient | undefined;
  private readonly gateways = new Map<string, Tracked>();
  private up = false;
  private downSince: number | undefined;
  private cancelConfirm: (() => void) | undefined;
  /** Connections made (1 after start). */
  connects = 0;
  /** Messages that were not JSON objects. */
  malformed = 0;
  /** Changes since start (a cheap "something moved" counter). */
  changes = 0;

  constructor(private readonly o: FleetOptions) {
    for (const id of o.expected ?? []) this.gateways.set(id, { missing: true });
  }

  /** Whether the watcher's own broker link is up now. */
  get brokerUp(): boolean {
    return this.up;
  }

  private linkUp(): void {
    this.up = true;
    this.downSince = undefined;
    this.connects++;
    if (this.connects === 1) return;
    // Retained messages come again after the resubscription: a status not among them was cleared meanwhile.
    const gen = this.connects;
    this.cancelConfirm?.();
    const t = setTimeout(() => {
      if (!this.up || this.connects !== gen) return;
      for (const g of this.gateways.values()) {
        if (g.status && (g.seenIn ?? 0) < gen) {
          delete g.status;
          g.vanished = true;
          this.changes++;
        }
      }
    }, this.o.confirmMs ?? 15_000);
    t.unref();
    this.cancelConfirm = () => clearTimeout(t);
  }

  private linkDown(): void {
    if (this.up) this.downSince = Date.now();
    this.up = false;
    this.cancelConfirm?.();
  }

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
    client.on('connect', () => this.linkUp());
    client.on('close', () => this.linkDown());
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
    const fleet = Topics.fleet(this.o.root);
    await client.subscribeAsync([fleet.status, fleet.health], { qos: 0 });
  }

  private onMessage(topic: string, payload: Buffer): void {
    const parts = topic.split('/');
    const kind = parts.pop();
    const id = parts.pop();
    if (!id || (kind !== 'status' && kind !== 'health')) return;
    if (payload.length === 0) return this.cleared(id, kind);
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
    delete g.missing;
    if (kind === 'status') {
      g.status = body as Retained['status'];
      g.seenIn = this.connects;
      delete g.vanished;
    } else g.health = body as Retained['health'];
    this.changes++;
  }

  /** An empty retained message: the broker no longer holds it. */
  private cleared(id: string, kind: 'status' | 'health'): void {
    const g = this.gateways.get(id);
    if (!g || g.missing) return;
    if (kind === 'health') delete g.health;
    else if (g.status) {
      delete g.status;
      g.vanished = true;
    }
    this.changes++;
  }

  get size(): number {
    return this.gateways.size;
  }

  /** Every gateway, most trouble first. */
  rows(nowMs = Date.now()): GatewayRow[] {
    const stale = this.o.staleAfterS ?? 180;
    const rows = [...this.gateways].map(([id, r]) => gatewayRow(id, r, nowMs, stale)).sort(byTrouble);
    if (this.up) return rows;
    const downS = Math.max(0, Math.round((nowMs - (this.downSince ?? nowMs)) / 1000));
    return rows.map((r) => staleRow(r, downS));
  }

  /** Seconds the watcher's broker link has been down (0 while up). */
  downForS(nowMs = Date.now()): number {
    return this.up || this.downSince === undefined ? 0 : Math.max(0, Math.round((nowMs - this.downSince) / 1000));
  }

  async stop(): Promise<void> {
    this.cancelConfirm?.();
    const c = this.client;
    this.client = undefined;
    if (c) await Promise.race([c.endAsync(true), new Promise((r) => setTimeout(r, 2000))]);
  }
}

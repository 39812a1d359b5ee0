/**
 * The ThingsBoard side of a gateway connection, written from ThingsBoard's gateway MQTT API
 * documentation alone (thingsboard.io/docs/reference/gateway-mqtt-api/, gateway-api/{telemetry,
 * attributes,rpc}/, and the device API's telemetry and RPC pages) — not from citygate's code —
 * so the tests that use it check citygate against the documented API, not against itself.
 *
 * On a plain broker it plays the platform: it subscribes to everything a gateway publishes,
 * checks each message against the documented format (anything else is a `violation`), keeps
 * what it saw in arrival order, and sends server-side RPC the way ThingsBoard delivers it:
 * `{"device","data":{"id","method","params"}}` on `v1/gateway/rpc` for a device behind the
 * gateway, `{"method","params"}` on `v1/devices/me/rpc/request/<id>` for the gateway itself.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { closeClient } from './mosquitto.js';
import { until } from './commander.js';

export type Seen =
  | { kind: 'connect' | 'disconnect'; device: string }
  | { kind: 'telemetry'; device: string; ts: number; values: Record<string, unknown> }
  | { kind: 'attributes'; device: string; values: Record<string, unknown> }
  | { kind: 'rpc_reply'; device: string; id: unknown; data: unknown }
  | { kind: 'me_telemetry'; ts: number | undefined; values: Record<string, unknown> }
  | { kind: 'me_attributes'; values: Record<string, unknown> }
  | { kind: 'me_rpc_reply'; requestId: string; data: unknown };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
/** Documented value types: string, boolean, double, long, JSON object or array (never null). */
const isValue = (v: unknown): boolean => ['string', 'number', 'boolean'].includes(typeof v) || (typeof v === 'object' && v !== null);

export class ThingsboardPlatform {
  readonly seen: Seen[] = [];
  /** Messages that do not follow the documented format, with why. */
  readonly violations: string[] = [];
  /** Every message as received: topic and payload text. */
  readonly raw: { topic: string; text: string }[] = [];
  private nextId = 1;

  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload) => this.take(topic, payload.toString('utf8')));
  }

  static async start(url: string, protocolVersion: 4 | 5 = 4, auth: { username?: string } = {}): Promise<ThingsboardPlatform> {
    const client = await mqtt.connectAsync(url, { protocolVersion, clientId: `tb-platform-${process.pid}-${Date.now()}`, reconnectPeriod: 0, ...auth });
    const p = new ThingsboardPlatform(client);
    await client.subscribeAsync(['v1/gateway/#', 'v1/devices/me/#'], { qos: 1 });
    return p;
  }

  private violate(topic: string, text: string, why: string): void {
    this.violations.push(`${topic}: ${why}: ${text.slice(0, 200)}`);
  }

  private take(topic: string, text: string): void {
    this.raw.push({ topic, text });
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return this.violate(topic, text, 'not JSON');
    }
    if (topic === 'v1/gateway/connect' || topic === 'v1/gateway/disconnect') {
      // {"device":"Device A"} (and an optional "type": the device profile)
      if (!isObject(body) || typeof body.device !== 'string' || Object.keys(body).some((k) => k !== 'device' && k !== 'type')) return this.violate(topic, text, 'expected {"device":"…"}');
      this.seen.push({ kind: topic.endsWith('/connect') ? 'connect' : 'disconnect', device: body.device });
    } else if (topic === 'v1/gateway/telemetry') {
      // {"Device A":[{"ts":1483228800000,"values":{…}}, …], …}
      if (!isObject(body)) return this.violate(topic, text, 'expected an object of device names');
      for (const [device, entries] of Object.entries(body)) {
        if (!Array.isArray(entries)) return this.violate(topic, text, `${device}: expected an array of {ts, values}`);
        for (const e of entries) {
          if (!isObject(e) || !isObject(e.values) || (e.ts !== undefined && !Number.isInteger(e.ts))) return this.violate(topic, text, `${device}: expected {"ts": ms, "values": {…}}`);
          if (!Object.values(e.values).every(isValue)) return this.violate(topic, text, `${device}: a value that is not string, boolean, number or JSON`);
          this.seen.push({ kind: 'telemetry', device, ts: e.ts as number, values: e.values });
        }
      }
    } else if (topic === 'v1/gateway/attributes') {
      // {"Device A":{"fw_version":"1.0","battery":87}, …}
      if (!isObject(body) || !Object.values(body).every(isObject)) return this.violate(topic, text, 'expected {"<device>":{…}}');
      for (const [device, values] of Object.entries(body)) this.seen.push({ kind: 'attributes', device, values: values as Record<string, unknown> });
    } else if (topic === 'v1/gateway/rpc') {
      // Our own requests come back from the broker: {"device","data":{"id","method","params"}}.
      if (isObject(body) && isObject(body.data) && 'method' in body.data) return;
      // The reply: {"device":"Device A","id":1,"data":{…}}
      if (!isObject(body) || typeof body.device !== 'string' || !('id' in body) || !('data' in body)) return this.violate(topic, text, 'expected {"device","id","data"}');
      this.seen.push({ kind: 'rpc_reply', device: body.device, id: body.id, data: body.data });
    } else if (topic === 'v1/devices/me/telemetry') {
      // {"k":v} or {"ts":…,"values":{…}} or an array of those.
      for (const e of Array.isArray(body) ? body : [body]) {
        if (!isObject(e)) return this.violate(topic, text, 'expected an object');
        const timed = 'values' in e;
        const values = timed ? e.values : e;
        if (!isObject(values) || (timed && !Number.isInteger(e.ts)) || !Object.values(values).every(isValue)) return this.violate(topic, text, 'expected {"ts": ms, "values": {…}}');
        this.seen.push({ kind: 'me_telemetry', ts: timed ? (e.ts as number) : undefined, values });
      }
    } else if (topic === 'v1/devices/me/attributes') {
      if (!isObject(body) || !Object.values(body).every(isValue)) return this.violate(topic, text, 'expected a flat object');
      this.seen.push({ kind: 'me_attributes', values: body });
    } else if (topic.startsWith('v1/devices/me/rpc/response/')) {
      this.seen.push({ kind: 'me_rpc_reply', requestId: topic.slice('v1/devices/me/rpc/response/'.length), data: body });
    } else if (topic.startsWith('v1/devices/me/rpc/request/')) {
      return; // our own request, back from the broker
    } else {
      this.violate(topic, text, 'a topic the gateway API does not have');
    }
  }

  /** Telemetry entries of one device, in arrival order. */
  telemetry(device: string): Extract<Seen, { kind: 'telemetry' }>[] {
    return this.seen.filter((s): s is Extract<Seen, { kind: 'telemetry' }> => s.kind === 'telemetry' && s.device === device);
  }

  /** Index of the first thing seen matching `pred`, or -1. */
  indexOf(pred: (s: Seen) => boolean): number {
    return this.seen.findIndex(pred);
  }

  /** Server-side RPC to a device behind the gateway; resolves with the reply's `data`. */
  async rpc(device: string, method: string, params: unknown, o: { id?: number; ms?: number } = {}): Promise<unknown> {
    const id = o.id ?? this.nextId++;
    const ms = o.ms ?? 10_000;
    const before = this.seen.length;
    await this.client.publishAsync('v1/gateway/rpc', JSON.stringify({ device, data: { id, method, params } }), { qos: 1 });
    let reply: Extract<Seen, { kind: 'rpc_reply' }> | undefined;
    const mine = (s: Seen, k: number): s is Extract<Seen, { kind: 'rpc_reply' }> => k >= before && s.kind === 'rpc_reply' && s.device === device && s.id === id;
    await until(() => (reply = this.seen.find(mine)) !== undefined, ms, `the reply to RPC ${id} (${method} to ${device})`);
    return reply?.data;
  }

  /** Server-side RPC to the gateway device itself (device API); resolves with the reply. */
  async rpcToGateway(method: string, params: unknown, ms = 10_000): Promise<unknown> {
    const id = String(this.nextId++);
    await this.client.publishAsync(`v1/devices/me/rpc/request/${id}`, JSON.stringify({ method, params }), { qos: 1 });
    let reply: Extract<Seen, { kind: 'me_rpc_reply' }> | undefined;
    await until(() => (reply = this.seen.find((s): s is Extract<Seen, { kind: 'me_rpc_reply' }> => s.kind === 'me_rpc_reply' && s.requestId === id)) !== undefined, ms, `the reply to gateway RPC ${id} (${method})`);
    return reply?.data;
  }

  async close(): Promise<void> {
    await closeClient(this.client);
  }
}

/**
 * Bytes on the wire per reading (issue 8): a gateway publishing to Mosquitto over TLS
 * through a counting TCP proxy (bench/lib/counting-proxy.ts), both directions counted —
 * PUBLISH packets inside TLS records up, PUBACKs down — divided by the readings the
 * broker acknowledged. Connection setup (TLS handshake, CONNECT, status, subscriptions)
 * is measured apart: the figure is the steady state of a connected gateway.
 *
 * For each batch size (100, 10 and 1 readings per message, a street pole polling 100,
 * 10 or 1 points every 10 s) in the same run, against the same broker:
 * - raw baseline: mqtt.js alone (MQTT 5, QoS 1, one message awaiting PUBACK at a time)
 *   publishing citygate's JSON payload for the same readings;
 * - the candidate encodings, published the same raw way (no MQTT properties): JSON +
 *   zlib; the compact form's CBOR document without zlib, and with zlib;
 * - citygate itself (Gateway → MqttUplink, real TLS, client certificate) with
 *   `uplink.encoding: json` and `compact` (which picks zlib or not per message, and adds
 *   the contentType property). Target: compact ≤ 25 B/reading at 100.
 */
import { deflateSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type IClientPublishOptions, type MqttClient } from 'mqtt';
import { configSchema } from '../../src/config/schema.js';
import { dataMessage, readingJson } from '../../src/buffer/codec.js';
import { Gateway } from '../../src/runtime/gateway.js';
import { COMPACT_CONTENT_TYPE, COMPACT_V1, COMPACT_V1_PLAIN, compactDocument } from '../../src/uplink/encoding/compact.js';
import type { DataPayload } from '../../src/uplink/topics.js';
import { makeTestCerts, type TestCerts } from '../../test/helpers/certs.js';
import { Mosquitto } from '../../test/helpers/mosquitto.js';
import { CountingProxy, type ByteCount } from '../lib/counting-proxy.js';
import { DEVICE, benchReading } from '../lib/readings.js';
import { sleep, waitFor } from '../lib/worker.js';
import type { BenchContext, BenchRow, BenchSection } from '../types.js';

const TARGET = 25;
const GATEWAY = 'bench-gw';
const TOPIC = `citygate/${GATEWAY}/data/${DEVICE}`;
const SIZES = [100, 10, 1] as const;
const T0 = Date.UTC(2026, 0, 1);

interface Measured {
  perReading: number;
  readings: number;
  messages: number;
  up: number;
  down: number;
  /** Bytes before the first message (handshake, CONNECT, status …). */
  setup?: number;
}

/** Message `k` of a pole with `size` points: the readings of poll `k` (10 s apart). */
function bodies(size: number, k: number): string[] {
  return Array.from({ length: size }, (_, p) => readingJson(benchReading(k * size + p, T0, size, 10_000), 1_000_000 + k * size + p));
}

function parsed(size: number, k: number): DataPayload {
  return { gateway: GATEWAY, device: DEVICE, readings: JSON.parse(`[${bodies(size, k).join(',')}]`) as DataPayload['readings'] };
}

type Candidate = { name: string; payload: (size: number, k: number) => Buffer | string; properties?: IClientPublishOptions['properties'] };
const CANDIDATES: Candidate[] = [
  { name: 'JSON', payload: (n, k) => dataMessage(GATEWAY, DEVICE, bodies(n, k)) },
  { name: 'JSON + zlib', payload: (n, k) => deflateSync(dataMessage(GATEWAY, DEVICE, bodies(n, k)), { level: 9 }) },
  { name: 'CBOR dictionary + columns', payload: (n, k) => Buffer.concat([Buffer.from([COMPACT_V1_PLAIN]), compactDocument(parsed(n, k))!]) },
  { name: 'CBOR dictionary + columns + zlib', payload: (n, k) => Buffer.concat([Buffer.from([COMPACT_V1]), deflateSync(compactDocument(parsed(n, k))!, { level: 9 })]) },
];

function delta(a: ByteCount, b: ByteCount): { up: number; down: number } {
  return { up: b.up - a.up, down: b.down - a.down };
}

function tlsOptions(certs: TestCerts): mqtt.IClientOptions {
  return { ca: readFileSync(certs.ca), cert: readFileSync(certs.clientCert), key: readFileSync(certs.clientKey), rejectUnauthorized: true };
}

/** mqtt.js alone: `messages` publishes, each waiting for its PUBACK. */
async function raw(proxy: CountingProxy, certs: TestCerts, c: Candidate, size: number, messages: number): Promise<Measured> {
  const client: MqttClient = mqtt.connect(`mqtts://127.0.0.1:${proxy.port}`, { ...tlsOptions(certs), protocolVersion: 5, clientId: 'bench-raw', reconnectPeriod: 0, keepalive: 600 });
  try {
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    await sleep(200); // TLS 1.3 session tickets arrive after the handshake
    const before = proxy.snapshot();
    for (let k = 0; k < messages; k++) await client.publishAsync(TOPIC, c.payload(size, k), { qos: 1, ...(c.properties ? { properties: c.properties } : {}) });
    const d = delta(before, proxy.snapshot());
    return { perReading: (d.up + d.down) / (messages * size), readings: messages * size, messages, ...d };
  } finally {
    await client.endAsync(true).catch(() => undefined);
  }
}

/** citygate: a Gateway with no devices; each message's readings are committed, then acked. */
async function citygate(ctx: BenchContext, proxy: CountingProxy, certs: TestCerts, encoding: 'json' | 'compact', size: number, messages: number): Promise<Measured> {
  const config = configSchema.parse({
    gateway: { id: GATEWAY, data_dir: join(ctx.tmpDir, `cg-${encoding}-${size}`) },
    uplink: {
      url: `mqtts://127.0.0.1:${proxy.port}`,
      tls: { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey },
      protocol_version: 5,
      encoding,
      keepalive: '10m',
      batch: { max_readings: size, max_delay: '1s' },
    },
    health: { interval: '1h', http: false },
    devices: [],
  });
  const start = proxy.snapshot();
  const gw = new Gateway(config, { drainMs: 2000 });
  await gw.start();
  try {
    if (!(await waitFor(() => gw.uplink.stats().state === 'online', 15_000))) throw new Error(`uplink not online: ${gw.uplink.stats().lastError ?? '?'}`);
    await waitFor(() => gw.buffer.stats().pendingEvents === 0, 5000);
    await sleep(300);
    const before = proxy.snapshot();
    for (let k = 0; k < messages; k++) {
      const acked = gw.uplink.stats().ackedReadings;
      for (let p = 0; p < size; p++) gw.committer.add(benchReading(k * size + p, T0, size, 10_000));
      gw.committer.flush();
      if (!(await waitFor(() => gw.uplink.stats().ackedReadings >= acked + size, 10_000, 1))) throw new Error(`message ${k}: no PUBACK within 10 s`);
    }
    const d = delta(before, proxy.snapshot());
    const setup = before.up + before.down - start.up - start.down;
    return { perReading: (d.up + d.down) / (messages * size), readings: messages * size, messages, ...d, setup };
  } finally {
    await gw.stop();
  }
}

async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const certs = makeTestCerts('bench-gw');
  const broker = new Mosquitto({ tls: { ca: certs.ca, cert: certs.serverCert, key: certs.serverKey } });
  await broker.start();
  const proxy = new CountingProxy(broker.port);
  await proxy.start();
  const rows: BenchRow[] = [];
  const messagesFor = (size: number): number => Math.max(5, Math.round((size === 100 ? 50 : size === 10 ? 200 : 300) * ctx.scale));
  try {
    for (const size of SIZES) {
      const n = messagesFor(size);
      const results = new Map<string, Measured>();
      for (const c of CANDIDATES) {
        const m = await raw(proxy, certs, c, size, n);
        ctx.log(`raw ${c.name}, ${size}/msg: ${m.perReading.toFixed(1)} B/reading (${JSON.stringify(m)})`);
        results.set(c.name, m);
      }
      for (const enc of ['json', 'compact'] as const) {
        const m = await citygate(ctx, proxy, certs, enc, size, n);
        ctx.log(`citygate ${enc}, ${size}/msg: ${m.perReading.toFixed(1)} B/reading (${JSON.stringify(m)})`);
        results.set(`citygate ${enc}`, m);
      }
      const base = results.get('JSON')!;
      const line = (name: string, m: Measured, extra: Partial<BenchRow> = {}): BenchRow => ({
        name: `wire: ${name}, ${size}/msg`,
        value: m.perReading,
        unit: 'B/reading',
        baseline: base.perReading,
        ratio: m.perReading / base.perReading,
        ...extra,
      });
      rows.push({
        name: `wire: raw mqtt.js, JSON, ${size}/msg`,
        value: base.perReading,
        unit: 'B/reading',
        note: `baseline: mqtt.js alone publishing citygate's JSON for the same readings; MQTT 5 QoS 1 over TLS (${broker.url.replace('mqtts', 'mqtts→proxy')}); ${base.messages} messages, up ${base.up} B, down ${base.down} B; counted above TCP (IP/TCP headers not included)`,
      });
      for (const c of CANDIDATES.slice(1)) rows.push(line(`candidate ${c.name} (raw publish)`, results.get(c.name)!));
      const cj = results.get('citygate json')!;
      const cc = results.get('citygate compact')!;
      rows.push(line('citygate, encoding json', cj, { note: `Gateway → MqttUplink, ${cj.messages} messages; up ${cj.up} B, down ${cj.down} B; connection setup ${cj.setup} B (TLS handshake with client certificate, CONNECT, status, subscriptions, gateway_started event)` }));
      rows.push(
        line('citygate, encoding compact', cc, {
          ...(size === 100 ? { target: `<= ${TARGET} B/reading`, ok: cc.perReading <= TARGET } : {}),
          note: `up ${cc.up} B, down ${cc.down} B; ${(cj.perReading / cc.perReading).toFixed(1)}× fewer bytes than citygate's JSON; includes the MQTT 5 contentType "${COMPACT_CONTENT_TYPE}" (${Buffer.byteLength(COMPACT_CONTENT_TYPE) + 5} B per message with the format indicator)`,
        }),
      );
    }
  } finally {
    await proxy.close();
    await broker.stop();
  }
  return rows;
}

const section: BenchSection = { name: 'wire', run };
export default section;

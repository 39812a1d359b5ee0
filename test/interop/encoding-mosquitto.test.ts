/**
 * The compact encoding (uplink.encoding: compact) against a real Mosquitto, read by a
 * separate subscriber with the shipped decoder:
 * - MQTT 5: every data message carries contentType application/vnd.citygate.compact.v1
 *   (and no UTF-8 payload format indicator); MQTT 3.1.1: the first byte says it;
 * - every seq arrives, in order, across a broker restart;
 * - a broker Maximum Packet Size that forces rows to be split: nothing oversize is sent
 *   (Mosquitto would disconnect), nothing is lost.
 */
import { afterEach, describe, expect, it } from 'vitest';
import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt';
import { Gateway } from '../../src/runtime/gateway.js';
import { COMPACT_CONTENT_TYPE } from '../../src/uplink/encoding/compact.js';
import { payloadEncoding } from '../../src/uplink/encoding/decode.js';
import { SeqCollector } from '../helpers/seq-collector.js';
import { simDevice, testConfig, type TestConfigInput } from '../helpers/gateway-config.js';
import { Mosquitto, closeClient, withTimeout, type MosquittoOptions } from '../helpers/mosquitto.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let gateway: Gateway | undefined;
let broker: Mosquitto | undefined;
let sub: MqttClient | undefined;

afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail' && broker) console.error(`mosquitto log:\n${broker.logTail(40)}`);
  await gateway?.stop().catch(() => undefined);
  await closeClient(sub);
  await broker?.stop();
  gateway = undefined;
  sub = undefined;
  broker = undefined;
});

interface Seen {
  seqs: SeqCollector;
  /** Per data message: its encoding by first byte, and its MQTT 5 content type. */
  messages: { encoding: string; contentType?: string; utf8?: boolean }[];
}

async function setup(name: string, pv: 4 | 5, over: Partial<TestConfigInput>, mosqOpts: MosquittoOptions = {}): Promise<{ gw: Gateway; seen: Seen; mosq: Mosquitto }> {
  const mosq = new Mosquitto(mosqOpts);
  broker = mosq;
  await mosq.start();
  const config = testConfig({ url: mosq.url, id: `${name}-v${pv}`, protocolVersion: pv, ...over, uplink: { encoding: 'compact', ...over.uplink } });
  const root = `citygate/${config.gateway.id}`;
  const seen: Seen = { seqs: new SeqCollector(root), messages: [] };
  sub = mqtt.connect(mosq.url, { clientId: `upstream-${name}-v${pv}`, protocolVersion: pv, clean: false, reconnectPeriod: 250, ...(pv === 5 ? { properties: { sessionExpiryInterval: 3600 } } : {}) });
  sub.on('message', (topic: string, payload: Buffer, packet: IPublishPacket) => {
    if (topic.startsWith(`${root}/data/`)) {
      const p = packet.properties;
      seen.messages.push({ encoding: payloadEncoding(payload) ?? `unknown 0x${payload[0]?.toString(16)}`, ...(p?.contentType ? { contentType: p.contentType } : {}), ...(p?.payloadFormatIndicator ? { utf8: true } : {}) });
    }
    seen.seqs.add(topic, payload);
  });
  await withTimeout(new Promise<void>((resolve, reject) => {
    sub!.once('connect', () => resolve());
    sub!.once('error', reject);
  }), 10_000, 'subscriber connecting');
  await withTimeout(sub.subscribeAsync([`${root}/data/+`, `${root}/events`], { qos: 1 }), 10_000, 'subscribing');
  const gw = new Gateway(config, { drainMs: 2000 });
  gateway = gw;
  await gw.start();
  return { gw, seen, mosq };
}

async function endOfStream(g: Gateway): Promise<number> {
  for (const d of g.devices) await d.supervisor.stop();
  g.committer.flush();
  return g.buffer.stats().nextSeq - 1;
}

for (const pv of [4, 5] as const) {
  describe(`compact encoding through Mosquitto, MQTT ${pv === 5 ? '5' : '3.1.1'}`, () => {
    it('announces itself and delivers every seq across a broker restart', async () => {
      const { gw, seen, mosq } = await setup('compact', pv, { devices: [simDevice('a', '5ms', 4), simDevice('b', '7ms', 3)] });
      await seen.seqs.waitFor(() => seen.seqs.unique.size > 300, 10_000, 'first readings');
      await mosq.stop();
      await sleep(1500);
      await mosq.start();
      const last = await (async () => {
        const end = Date.now() + 10_000;
        while (gw.uplink.stats().state !== 'online' && Date.now() < end) await sleep(25);
        await sleep(500);
        return endOfStream(gw);
      })();
      await seen.seqs.waitFor(() => seen.seqs.missing(1, last).length === 0, 30_000, `every seq up to ${last}`);
      expect(seen.seqs.orderViolations()).toEqual([]);
      expect(seen.seqs.conflicts).toEqual([]);
      expect(seen.messages.length).toBeGreaterThan(5);
      const expected = pv === 5 ? { encoding: 'compact', contentType: COMPACT_CONTENT_TYPE } : { encoding: 'compact' };
      expect(seen.messages.filter((m) => JSON.stringify(m) !== JSON.stringify(expected))).toEqual([]);
    });
  });
}

describe('compact encoding, MQTT 5, small Maximum Packet Size', () => {
  it('splits to fit: Mosquitto never disconnects the gateway, every seq arrives', async () => {
    // 60 points per poll with long names: a row's JSON is far beyond 1 KiB.
    const points = [{ name: 'a_rather_long_point_name_for_splitting', wave: 'random_walk', min: 0, max: 1000, step: 3.3, precision: 2, replicas: 60 }];
    const { gw, seen } = await setup('split', 5, { devices: [{ id: 'wide', driver: 'sim', poll: '20ms', seed: 5, points }], uplink: { batch: { max_readings: 200, max_delay: '50ms' } } }, { maxPacketSize: 1024 });
    await seen.seqs.waitFor(() => seen.seqs.unique.size > 2000, 20_000, 'readings');
    const last = await endOfStream(gw);
    await seen.seqs.waitFor(() => seen.seqs.missing(1, last).length === 0, 30_000, `every seq up to ${last}`);
    expect(gw.uplink.stats().reconnects).toBe(0);
    expect(seen.seqs.orderViolations()).toEqual([]);
    expect(seen.messages.every((m) => m.encoding === 'compact')).toBe(true);
  });
});

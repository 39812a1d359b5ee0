/**
 * The delivery promise against RabbitMQ 3.10 with its MQTT plugin: a node of its own,
 * started by the test on free ports (test/helpers/rabbitmq.ts). RabbitMQ 3.x speaks MQTT
 * 3.1.1 only and closes an MQTT 5 CONNECT without a CONNACK: the gateway is left on the
 * default protocol_version 5 and must get online with 3.1.1 by itself. The consumer is
 * a persistent QoS 1 subscriber (clean session off: a durable queue on the node).
 * The node is SIGKILLed mid-stream and started again on the same database: every seq
 * arrives, in order per device, and the retained status reads online again.
 * A RabbitMQ start takes 10–30 s on a small machine: one node, one scenario.
 * What differs from Mosquitto, and what citygate does about it: docs/brokers.md.
 */
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { Gateway } from '../../src/runtime/gateway.js';
import { createLogger } from '../../src/core/log.js';
import { SeqCollector } from '../helpers/seq-collector.js';
import { simDevice, testConfig } from '../helpers/gateway-config.js';
import { closeClient, persistentSubscriber, withTimeout } from '../helpers/mosquitto.js';
import { RabbitMq } from '../helpers/rabbitmq.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let node: RabbitMq | undefined;
let gateway: Gateway | undefined;
const clients: MqttClient[] = [];

beforeAll(async () => {
  node = new RabbitMq();
  await node.start(50_000);
}, 60_000);

afterAll(async () => {
  await node?.close();
}, 60_000);

afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail') {
    if (gateway) console.error('uplink', gateway.uplink.stats(), 'buffer', gateway.buffer.stats());
    if (node) console.error(`rabbitmq log (${node.dir}):\n${node.logTail(40)}`);
  }
  await gateway?.stop().catch(() => undefined);
  gateway = undefined;
  for (const c of clients.splice(0)) await closeClient(c);
});

async function until(pred: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms}ms waiting for ${what}`);
    await sleep(50);
  }
}

/** Stop every device and commit what they emitted: the end of the stream. Returns the last seq. */
async function endOfStream(g: Gateway): Promise<number> {
  for (const d of g.devices) await d.supervisor.stop();
  g.committer.flush();
  return g.buffer.stats().nextSeq - 1;
}

/** The retained message on `topic`, read by a fresh clean-session client. */
async function retained(topic: string): Promise<string | undefined> {
  const c = await withTimeout(mqtt.connectAsync(node!.url, { protocolVersion: 4, clientId: `retained-reader-${Date.now()}`, reconnectPeriod: 0 }), 10_000, 'retained reader');
  clients.push(c);
  let got: string | undefined;
  c.on('message', (t, p, packet) => {
    if (t === topic && packet.retain) got = p.toString();
  });
  await c.subscribeAsync(topic, { qos: 1 });
  await until(() => got !== undefined, 5000, `the retained ${topic}`).catch(() => undefined);
  return got;
}

describe('RabbitMQ 3.10 (rabbitmq_mqtt, MQTT 3.1.1)', () => {
  it('node killed mid-stream and restarted: every seq, in order; MQTT 5 fell back to 3.1.1 by itself', async () => {
    const n = node!;
    const lines: string[] = [];
    const log = createLogger({
      level: 'info',
      pretty: false,
      destination: new Writable({ write: (chunk: Buffer, _e, done) => (lines.push(...chunk.toString().split('\n').filter(Boolean)), done()) }),
    });
    const config = testConfig({ url: n.url, id: 'rabbit-kill', protocolVersion: 5, devices: [simDevice('a', '5ms', 4), simDevice('b', '7ms', 3)] });
    const root = `citygate/${config.gateway.id}`;
    const seen = new SeqCollector(root);
    const sub = await persistentSubscriber(n.url, {
      clientId: 'upstream-rabbit-kill',
      protocolVersion: 4,
      topics: [`${root}/data/+`, `${root}/events`],
      onMessage: (t, p) => seen.add(t, p),
    });
    clients.push(sub);
    gateway = new Gateway(config, { log, drainMs: 2000 });
    const gw = gateway;
    await gw.start();

    await seen.waitFor(() => seen.unique.size > 500, 20_000, 'first readings through RabbitMQ');
    expect(await retained(`${root}/status`)).toMatch(/"state":"online"/);
    await n.kill();
    const seqAtOutage = gw.buffer.stats().nextSeq;
    await sleep(1500);
    expect(gw.uplink.stats().state).not.toBe('online');
    expect(gw.buffer.stats().nextSeq).toBeGreaterThan(seqAtOutage + 200); // kept accepting while down

    await n.start(50_000); // same ports, node name and database: the durable queue is back
    await until(() => gw.uplink.stats().state === 'online', 20_000, 'the uplink back on the restarted node');
    await sleep(1000);
    const last = await endOfStream(gw);
    await seen.waitFor(() => seen.missing(1, last).length === 0, 30_000, `every seq up to ${last}`);

    expect(seen.missing(1, last)).toEqual([]);
    expect(seen.conflicts).toEqual([]);
    expect(seen.orderViolations()).toEqual([]);
    expect(seen.byDevice.size).toBe(2);
    const u = gw.uplink.stats();
    expect(u.reconnects).toBeGreaterThanOrEqual(1);
    // MQTT 3.1.1 has no Receive Maximum: our own inflight window governs.
    expect(u.window).toBe(config.uplink.inflight);
    expect(lines.filter((l) => /speaks MQTT 3\.1\.1 only/.test(l)), 'one fallback line for the whole run').toHaveLength(1);
    expect(await retained(`${root}/status`)).toMatch(/"state":"online"/);
  });
});

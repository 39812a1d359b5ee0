/**
 * The compact encoding end to end through the in-process broker (aedes, MQTT 3.1.1):
 * every data message is compact (first byte 0xC1/0xC0, no `{`), and decoding them with
 * the shipped decoder gives every seq, in order, across a broker outage.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedBroker } from '../../../src/demo/embedded-broker.js';
import { Gateway } from '../../../src/runtime/gateway.js';
import { payloadEncoding } from '../../../src/uplink/encoding/decode.js';
import { SeqCollector } from '../../helpers/seq-collector.js';
import { simDevice, testConfig } from '../../helpers/gateway-config.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('compact encoding through aedes', () => {
  let gateway: Gateway | undefined;
  let broker: EmbeddedBroker | undefined;
  afterEach(async () => {
    await gateway?.stop();
    await broker?.stop();
  });

  it('delivers every seq as compact messages, across a broker restart', async () => {
    broker = new EmbeddedBroker();
    await broker.start();
    const port = broker.port;
    const config = testConfig({ url: broker.url, uplink: { encoding: 'compact' }, devices: [simDevice('a', '5ms', 4), simDevice('b', '7ms', 3)] });
    const root = `citygate/${config.gateway.id}`;
    const seen = new SeqCollector(root);
    const encodings = new Map<string, number>();
    const listen = (b: EmbeddedBroker): void => {
      b.onPublish((m) => {
        if (m.topic.startsWith(`${root}/data/`)) {
          const e = payloadEncoding(m.payload) ?? 'unknown';
          encodings.set(e, (encodings.get(e) ?? 0) + 1);
        }
        seen.add(m.topic, m.payload);
      });
    };
    listen(broker);
    gateway = new Gateway(config);
    await gateway.start();

    await seen.waitFor(() => seen.unique.size > 300, 10_000, 'first readings');
    await broker.stop();
    await sleep(1500);
    broker = new EmbeddedBroker('127.0.0.1', port);
    listen(broker);
    await broker.start();
    await sleep(500);
    for (const d of gateway.devices) await d.supervisor.stop();
    gateway.committer.flush();
    const last = gateway.buffer.stats().nextSeq - 1;
    await seen.waitFor(() => seen.missing(1, last).length === 0, 20_000, `every seq up to ${last}`);

    expect(seen.orderViolations()).toEqual([]);
    expect(seen.conflicts).toEqual([]);
    expect([...encodings.keys()]).toEqual(['compact']);
    expect(encodings.get('compact')).toBe(seen.messages);
  });
});

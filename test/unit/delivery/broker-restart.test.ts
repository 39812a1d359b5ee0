/**
 * The delivery promise across a broker outage: the broker is stopped for seconds in
 * the middle of a stream and started again on the same port; every seq from the
 * first to the last arrives, in order per device, duplicates only around the
 * reconnect.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedBroker } from '../../../src/demo/embedded-broker.js';
import { Gateway } from '../../../src/runtime/gateway.js';
import { SeqCollector } from '../../helpers/seq-collector.js';
import { simDevice, testConfig } from '../../helpers/gateway-config.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('broker restart mid-stream', () => {
  let gateway: Gateway | undefined;
  let broker: EmbeddedBroker | undefined;
  afterEach(async () => {
    await gateway?.stop();
    await broker?.stop();
  });

  it('delivers every seq, in order, after a multi-second outage', async () => {
    broker = new EmbeddedBroker();
    await broker.start();
    const port = broker.port;
    const config = testConfig({ url: broker.url, devices: [simDevice('a', '5ms', 4), simDevice('b', '7ms', 3)] });
    const seen = new SeqCollector(`citygate/${config.gateway.id}`);
    broker.onPublish((m) => seen.add(m.topic, m.payload));
    gateway = new Gateway(config);
    await gateway.start();

    await seen.waitFor(() => seen.unique.size > 500, 10_000, 'first readings');
    await broker.stop();
    const seqAtOutage = gateway.buffer.stats().nextSeq;
    await sleep(2500);
    expect(gateway.uplink.stats().state).not.toBe('online');
    expect(gateway.buffer.stats().nextSeq).toBeGreaterThan(seqAtOutage + 500); // kept accepting while down

    broker = new EmbeddedBroker('127.0.0.1', port);
    broker.onPublish((m) => seen.add(m.topic, m.payload));
    await broker.start();
    await sleep(1000);
    for (const d of gateway.devices) await d.supervisor.stop(); // end of stream
    gateway.committer.flush();
    const last = gateway.buffer.stats().nextSeq - 1;
    await seen.waitFor(() => seen.missing(1, last).length === 0, 20_000, `every seq up to ${last}`).catch((e) => { console.log("MISSING", seen.missing(1, last).slice(0, 50), "events", JSON.stringify(seen.events).slice(0, 2000), gateway!.buffer.stats()); throw e; });

    expect(seen.missing(1, last)).toEqual([]);
    expect(seen.orderViolations()).toEqual([]);
    expect(gateway.uplink.stats().reconnects).toBeGreaterThanOrEqual(1);
    // Duplicates are only what was in flight at the outage: bounded by the window.
    expect(seen.duplicates).toBeLessThanOrEqual(config.uplink.inflight * config.uplink.batch.max_readings);
    await seen.waitFor(() => gateway!.buffer.stats().readings === 0, 5000, 'buffer drained');
  });
});

/**
 * docs/field-notes.md, MQTT section: each known mqtt.js / broker behaviour, and proof that the
 * uplink handles it. (The message-id wrap needs >65,535 messages on one connection and
 * runs against Mosquitto in test/interop/msgid-wrap.test.ts.)
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedBroker } from '../../../src/demo/embedded-broker.js';
import { MqttUplink } from '../../../src/uplink/mqtt-uplink.js';
import { clientOptions } from '../../../src/uplink/client-options.js';
import { Topics } from '../../../src/uplink/topics.js';
import { SqliteBuffer } from '../../../src/buffer/sqlite-buffer.js';
import { systemClock } from '../../../src/core/clock.js';
import { silentLogger } from '../../../src/core/log.js';
import type { Reading } from '../../../src/core/reading.js';
import { SeqCollector } from '../../helpers/seq-collector.js';
import { tempDir, testConfig } from '../../helpers/gateway-config.js';
import { freePort } from '../../helpers/net.js';

const topics = Topics.forGateway('fn-gw');
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function setup(url: string, uplink: Record<string, unknown> = {}, maxReadingsPerRow = 1) {
  const config = testConfig({ url, id: 'fn-gw', uplink: { ...uplink } });
  const buffer = new SqliteBuffer({
    dataDir: tempDir(),
    maxBytes: 1 << 30,
    maxAgeMs: 86_400_000,
    onFull: 'drop_oldest',
    synchronous: 'normal',
    maxReadingsPerRow,
    clock: systemClock,
  });
  const uplinkObj = new MqttUplink({
    config: config.uplink,
    gatewayId: 'fn-gw',
    topics,
    buffer,
    clock: systemClock,
    log: silentLogger(),
    version: 'test',
    startedAt: Date.now(),
  });
  cleanups.push(() => buffer.close());
  cleanups.push(() => uplinkObj.stop(0));
  return { config, buffer, uplink: uplinkObj };
}

const readings = (n: number, device = 'd'): Reading[] =>
  Array.from({ length: n }, (_, i) => ({ device, point: 'p', value: i, ts: 1_700_000_000_000 + i, quality: 'good' as const }));

describe('mqtt.js field notes', () => {
  it('QoS 0 is never queued offline and mqtt.js never reconnects by itself', () => {
    const cfg = testConfig({ url: 'mqtt://127.0.0.1:1' }).uplink;
    const o = clientOptions(cfg, 'gw', topics);
    expect(o.queueQoSZero).toBe(false);
    expect(o.reconnectPeriod).toBe(0);
    expect(o.will).toMatchObject({ topic: topics.status, qos: 1, retain: true });
    expect(JSON.parse(String(o.will?.payload))).toEqual({ state: 'offline' });
  });

  it('a broker that stops sending PUBACK: the watchdog reconnects and nothing is lost', async () => {
    let stall = true;
    const broker = new EmbeddedBroker('127.0.0.1', 0, {
      authorizePublish: (_client, _packet, cb) => {
        if (!stall) cb(null);
        // stalled: never answer, so the broker never acknowledges (end(true) would leave a publishAsync hanging)
      },
    });
    await broker.start();
    cleanups.push(() => broker.stop());
    const seen = new SeqCollector(topics.root);
    broker.onPublish((m) => seen.add(m.topic, m.payload));
    const { buffer, uplink } = setup(broker.url, { ack_timeout: '1s', batch: { max_readings: 10, max_delay: '10ms' } }, 10);
    buffer.commit(readings(100));
    uplink.start();
    await seen.waitFor(() => uplink.stats().inflight > 0, 5000, 'messages in flight');
    await new Promise((r) => setTimeout(r, 2500));
    expect(uplink.stats().reconnects + (uplink.stats().state === 'online' ? 0 : 1)).toBeGreaterThanOrEqual(1);
    expect(buffer.stats().readings).toBe(100); // nothing deleted without PUBACK
    stall = false;
    await seen.waitFor(() => buffer.stats().readings === 0, 15_000, 'delivery once the broker acknowledges');
    expect(seen.missing(1, 100)).toEqual([]);
  });

  it('a broker that accepts TCP but never answers CONNECT: the client is replaced, with backoff', async () => {
    const port = await freePort();
    let connections = 0;
    const silent = net.createServer((s) => {
      connections++;
      s.on('data', () => {}); // swallow CONNECT, never CONNACK
    });
    await new Promise<void>((r) => silent.listen(port, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise<void>((r) => silent.close(() => r())));
    const { uplink } = setup(`mqtt://127.0.0.1:${port}`, { connect_timeout: '300ms', reconnect: { min: '100ms', max: '200ms' } });
    uplink.start();
    await new Promise((r) => setTimeout(r, 8000));
    expect(connections).toBeGreaterThanOrEqual(2);
    expect(uplink.stats().state).not.toBe('online');
  }, 20_000);

  it('reconnects with exponential backoff and jitter, not a fixed 1 s', async () => {
    const port = await freePort(); // nothing listens: connection refused
    const attempts: number[] = [];
    const { uplink } = setup(`mqtt://127.0.0.1:${port}`, { reconnect: { min: '100ms', max: '1600ms' } });
    const origConnect = (uplink as unknown as { connect: () => void }).connect.bind(uplink);
    (uplink as unknown as { connect: () => void }).connect = () => {
      attempts.push(Date.now());
      origConnect();
    };
    uplink.start();
    await new Promise((r) => setTimeout(r, 4500));
    await uplink.stop(0);
    const gaps = attempts.slice(1).map((t, i) => t - (attempts[i] as number));
    expect(gaps.length).toBeGreaterThanOrEqual(3);
    // Each gap lies within the jittered window of its attempt: [0.5, 1] × min(max, 100·2ⁿ) (+ slack for the loop).
    gaps.forEach((g, n) => {
      const cap = Math.min(1600, 100 * 2 ** n);
      expect(g).toBeGreaterThanOrEqual(cap * 0.5 - 20);
      expect(g).toBeLessThanOrEqual(cap + 400);
    });
    expect(gaps[gaps.length - 1]).toBeGreaterThan(gaps[0]! * 2);
  }, 15_000);
});

/**
 * docs/field-notes.md, MQTT section: each known mqtt.js / broker behaviour, and proof that the
 * uplink handles it. (The message-id wrap needs >65,535 messages on one connection and
 * runs against Mosquitto in test/interop/msgid-wrap.test.ts.)
 */
import net from 'node:net';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedBroker } from '../../../src/demo/embedded-broker.js';
import { MqttUplink } from '../../../src/uplink/mqtt-uplink.js';
import { clientOptions } from '../../../src/uplink/client-options.js';
import { Topics } from '../../../src/uplink/topics.js';
import { SqliteBuffer } from '../../../src/buffer/sqlite-buffer.js';
import { systemClock } from '../../../src/core/clock.js';
import { createLogger, type Logger } from '../../../src/core/log.js';
import type { Reading } from '../../../src/core/reading.js';
import { SeqCollector } from '../../helpers/seq-collector.js';
import { tempDir, testConfig } from '../../helpers/gateway-config.js';
import { freePort } from '../../helpers/net.js';

const topics = Topics.forGateway('fn-gw');
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A debug logger whose JSON lines the test can read: what the uplink did, and when. */
function logCapture(): { log: Logger; lines: () => Record<string, unknown>[] } {
  const out: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out.push(...chunk.toString().split('\n').filter(Boolean));
      cb();
    },
  });
  const log = createLogger({ level: 'debug', pretty: false, destination });
  return { log, lines: () => out.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

/** The reconnect delays the uplink scheduled, in order (its own debug log). */
const scheduledDelays = (lines: Record<string, unknown>[]): number[] =>
  lines.filter((l) => l.msg === 'uplink: reconnect scheduled').map((l) => l.delay as number);

/** Each delay lies in the full-jitter window of its attempt: [0.5, 1] × min(max, min·2ⁿ). */
function expectBackoff(delays: number[], min: number, max: number): void {
  delays.forEach((d, n) => {
    const cap = Math.min(max, min * 2 ** n);
    expect(d).toBeGreaterThanOrEqual(cap * 0.5);
    expect(d).toBeLessThanOrEqual(cap);
  });
}

/** Waits (bounded) until `cond` holds. */
async function until(cond: () => boolean, what: string, ms: number): Promise<void> {
  for (let i = 0; i < ms / 20 && !cond(); i++) await new Promise((r) => setTimeout(r, 20));
  if (!cond()) throw new Error(`${what}: not within ${ms}ms`);
}

function setup(url: string, uplink: Record<string, unknown> = {}, maxReadingsPerRow = 1, log: Logger = logCapture().log) {
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
    log,
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
    const cap = logCapture();
    const { buffer, uplink } = setup(broker.url, { ack_timeout: '1s', batch: { max_readings: 10, max_delay: '10ms' } }, 10, cap.log);
    buffer.commit(readings(100));
    uplink.start();
    await seen.waitFor(() => uplink.stats().inflight > 0, 5000, 'messages in flight');
    // The watchdog (checking every second) drops the stuck client and a new one connects.
    await until(() => uplink.stats().reconnects >= 1, 'a reconnect', 10_000);
    const offline = cap.lines().filter((l) => l.msg === 'uplink offline: no PUBACK within 1000ms: link stuck');
    expect(offline.length).toBeGreaterThanOrEqual(1);
    expect(buffer.stats().readings).toBe(100); // nothing deleted without PUBACK
    stall = false;
    await seen.waitFor(() => buffer.stats().readings === 0, 15_000, 'delivery once the broker acknowledges');
    expect(seen.missing(1, 100)).toEqual([]);
  });

  it('a broker that accepts TCP but never answers CONNECT: the client is replaced, with backoff', async () => {
    const port = await freePort();
    const connections: number[] = [];
    const silent = net.createServer((s) => {
      connections.push(Date.now());
      s.on('data', () => {}); // swallow CONNECT, never CONNACK
      s.on('error', () => {});
    });
    await new Promise<void>((r) => silent.listen(port, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise<void>((r) => silent.close(() => r())));
    const cap = logCapture();
    const { uplink } = setup(`mqtt://127.0.0.1:${port}`, { connect_timeout: '1s', reconnect: { min: '100ms', max: '800ms' } }, 1, cap.log);
    uplink.start();
    await until(() => connections.length >= 5, 'five connection attempts', 30_000);
    await uplink.stop(0);
    expect(uplink.stats().state).not.toBe('online');
    const delays = scheduledDelays(cap.lines());
    expect(delays.length).toBeGreaterThanOrEqual(4);
    expectBackoff(delays, 100, 800);
    // Each new attempt came only after the connect timeout and the delay scheduled for it.
    connections.slice(1, 5).forEach((t, n) => expect(t - (connections[n] as number)).toBeGreaterThanOrEqual(1000 + (delays[n] as number) - 20));
  }, 45_000);

  it('reconnects with exponential backoff and jitter, not a fixed 1 s', async () => {
    const port = await freePort();
    const attempts: number[] = [];
    // A broker host that hangs up at once: every attempt is seen, none succeeds.
    const hangUp = net.createServer((s) => {
      attempts.push(Date.now());
      s.destroy();
    });
    await new Promise<void>((r) => hangUp.listen(port, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise<void>((r) => hangUp.close(() => r())));
    const cap = logCapture();
    const { uplink } = setup(`mqtt://127.0.0.1:${port}`, { reconnect: { min: '100ms', max: '1600ms' } }, 1, cap.log);
    uplink.start();
    await until(() => attempts.length >= 5, 'five attempts', 15_000);
    await uplink.stop(0);
    const delays = scheduledDelays(cap.lines());
    expect(delays.length).toBeGreaterThanOrEqual(4);
    expectBackoff(delays, 100, 1600);
    expect(delays[3]).toBeGreaterThan((delays[0] as number) * 2); // growing, not fixed
    // and the attempts really were that far apart (timers never fire early)
    attempts.slice(1, 5).forEach((t, n) => expect(t - (attempts[n] as number)).toBeGreaterThanOrEqual((delays[n] as number) - 20));
  }, 30_000);
});

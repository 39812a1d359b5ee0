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
import { WASTED_LIMIT } from '../../../src/uplink/reconnect-policy.js';

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

/** The reconnect steps the uplink scheduled, in order: a TCP probe or an MQTT attempt, after `delay` ms. */
const scheduledSteps = (lines: Record<string, unknown>[]): { action: string; delay: number }[] =>
  lines.filter((l) => l.msg === 'uplink: reconnect scheduled').map((l) => ({ action: l.action as string, delay: l.delay as number }));

/**
 * Each delay lies in the full-jitter window of its attempt: [0.5, 1] × min(max, min·2ⁿ).
 * The logged delay is what remains until the step is due (src/uplink/redial.ts sets `due`,
 * then schedules `due - now` a moment later), so it may fall short of the window by the
 * few milliseconds in between (seen: 49.988 for a window starting at 50).
 */
const SCHEDULING_SLACK_MS = 5;
function expectBackoff(delays: number[], min: number, max: number): void {
  delays.forEach((d, n) => {
    const cap = Math.min(max, min * 2 ** n);
    expect(d).toBeGreaterThanOrEqual(cap * 0.5 - SCHEDULING_SLACK_MS);
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

  it('a broker that accepts TCP but never answers CONNECT: the client is replaced; after a few rounds attempts wait for the backoff', async () => {
    const port = await freePort();
    const connects: number[] = [];
    const silent = net.createServer((s) => {
      // A probe sends nothing; an MQTT attempt sends CONNECT, which is swallowed: never CONNACK.
      s.once('data', () => connects.push(Date.now()));
      s.on('error', () => {});
    });
    await new Promise<void>((r) => silent.listen(port, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise<void>((r) => silent.close(() => r())));
    const cap = logCapture();
    const { uplink } = setup(`mqtt://127.0.0.1:${port}`, { connect_timeout: '1s', reconnect: { min: '100ms', max: '800ms' } }, 1, cap.log);
    uplink.start();
    await until(() => connects.length >= WASTED_LIMIT + 4, 'attempts past the wasted limit', 40_000);
    await uplink.stop(0);
    expect(uplink.stats().state).not.toBe('online');
    const steps = scheduledSteps(cap.lines());
    // The first attempt at once; then probe → attempt rounds (the probe sees the port open).
    const afterProbe = steps.filter((st, i) => st.action === 'connect' && steps[i - 1]?.action === 'probe').map((st) => st.delay);
    expect(afterProbe.length).toBeGreaterThanOrEqual(WASTED_LIMIT + 3);
    afterProbe.slice(0, WASTED_LIMIT).forEach((d) => expect(d).toBeLessThanOrEqual(100));
    // Then the attempts wait for the exponential backoff, not [0, min].
    expectBackoff(afterProbe.slice(WASTED_LIMIT), 100, 800);
    // Each new attempt came only after the connect timeout of the one before.
    connects.slice(1).forEach((t, n) => expect(t - (connects[n] as number)).toBeGreaterThanOrEqual(1000 - 20));
  }, 60_000);

  it('while the broker is unreachable: cheap probes at growing full-jitter delays, not a fixed 1 s, and no MQTT attempt', async () => {
    const port = await freePort();
    const connections: number[] = [];
    let mqttAttempts = 0;
    // A host that hangs up at once: the first attempt fails, then only probes come.
    const hangUp = net.createServer((s) => {
      connections.push(Date.now());
      s.once('data', () => mqttAttempts++);
      setTimeout(() => s.destroy(), 5);
    });
    await new Promise<void>((r) => hangUp.listen(port, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise<void>((r) => hangUp.close(() => r())));
    const cap = logCapture();
    const { uplink } = setup(`mqtt://127.0.0.1:${port}`, { reconnect: { min: '100ms', max: '1600ms', probe: '1s' } }, 1, cap.log);
    uplink.start();
    await until(() => connections.length >= 9, 'a first attempt and eight probes', 20_000);
    await uplink.stop(0);
    const steps = scheduledSteps(cap.lines()).slice(1, 9);
    expect(steps.map((st) => st.action)).toEqual(Array(8).fill('probe'));
    // Full jitter: each delay in [0, min(probe, min·2ⁿ)] …
    steps.forEach((st, n) => expect(st.delay).toBeLessThanOrEqual(Math.min(1000, 100 * 2 ** n)));
    // … and the window grows (all of eight draws below 200 ms would take odds of ~1e-4).
    expect(Math.max(...steps.map((st) => st.delay))).toBeGreaterThan(200);
    expect(mqttAttempts).toBe(1);
    expect(uplink.stats().attempts).toBe(1);
    // and the probes really were that far apart (timers never fire early)
    connections.slice(1, 9).forEach((t, n) => expect(t - (connections[n] as number)).toBeGreaterThanOrEqual((steps[n] as { delay: number }).delay - 20));
  }, 30_000);
});

describe('uplink log and health while the broker is away', () => {
  it('one line per reason, not one per retry; recovery says how long and how many attempts; last_error has a time and clears', async () => {
    const port = await freePort();
    const cap = logCapture();
    const { uplink } = setup(`mqtt://127.0.0.1:${port}`, { reconnect: { min: '100ms', max: '200ms' } }, 1, cap.log);
    uplink.start();
    await until(() => cap.lines().filter((l) => l.msg === 'uplink: reconnect scheduled').length >= 8, 'eight attempts', 20_000);
    const refused = cap.lines().filter((l) => typeof l.msg === 'string' && l.msg.includes('connection refused'));
    expect(refused).toHaveLength(1); // eight refusals, one line
    expect(refused[0]).toMatchObject({ attempts: 1, backlog: 0 });
    const down = uplink.stats();
    expect(down.lastError).toMatch(/connection refused/);
    expect(down.lastErrorAt).toBeGreaterThan(Date.now() - 60_000);
    const broker = new EmbeddedBroker('127.0.0.1', port);
    await broker.start();
    cleanups.push(() => broker.stop());
    await until(() => uplink.stats().state === 'online', 'online', 20_000);
    expect(uplink.stats().lastError).toBeUndefined();
    await uplink.stop(0);
    const back = cap.lines().find((l) => l.msg === 'uplink online');
    expect(back).toMatchObject({ broker: `mqtt://127.0.0.1:${port}` });
    // The one refused attempt, then probes: eight scheduled steps before the broker came.
    expect((back!.attempts as number) + (back!.probes as number)).toBeGreaterThanOrEqual(8);
  }, 45_000);
});

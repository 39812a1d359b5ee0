/**
 * The log while the broker is away for minutes (injected clock, real sockets to a
 * closed port): one line for the reason, then one summary a minute — never one line
 * per probe — and a single MQTT attempt; the probes really go out.
 */
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/core/fake-clock.js';
import { createLogger } from '../../../src/core/log.js';
import { SqliteBuffer } from '../../../src/buffer/sqlite-buffer.js';
import { MqttUplink } from '../../../src/uplink/mqtt-uplink.js';
import { Topics } from '../../../src/uplink/topics.js';
import { EmbeddedBroker } from '../../../src/demo/embedded-broker.js';
import { tempDir, testConfig } from '../../helpers/gateway-config.js';
import { freePort } from '../../helpers/net.js';

const closers: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

describe('uplink log during a long outage', () => {
  it('three minutes unreachable: one reason line, a summary a minute, probes but one attempt', async () => {
    const port = await freePort(); // nothing listens: connection refused
    const out: Record<string, unknown>[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _e, cb) {
        for (const l of chunk.toString().split('\n').filter(Boolean)) out.push(JSON.parse(l) as Record<string, unknown>);
        cb();
      },
    });
    const clock = new FakeClock({ wall: Date.now() });
    const config = testConfig({ url: `mqtt://127.0.0.1:${port}`, id: 'log-gw', uplink: { reconnect: { min: '1s', max: '2m' } } });
    const buffer = new SqliteBuffer({ dataDir: tempDir(), maxBytes: 1 << 30, maxAgeMs: 86_400_000, onFull: 'drop_oldest', synchronous: 'normal', maxReadingsPerRow: 1, clock });
    closers.push(() => buffer.close());
    const uplink = new MqttUplink({ config: config.uplink, gatewayId: 'log-gw', topics: Topics.forGateway('log-gw'), buffer, clock, log: createLogger({ level: 'info', pretty: false, destination }), version: 't', startedAt: Date.now() });
    closers.push(() => uplink.stop(0));
    uplink.start();
    // Three minutes of injected time in 100 ms steps; real sockets answer in between.
    for (let t = 0; t < 180_000 + 500; t += 100) {
      clock.advance(100);
      await new Promise((r) => setTimeout(r, 1));
    }
    const msgs = out.map((l) => String(l.msg));
    expect(msgs.filter((m) => m.startsWith('uplink: connection refused'))).toHaveLength(1);
    const summaries = out.filter((l) => String(l.msg).startsWith('uplink: still offline after'));
    expect(summaries).toHaveLength(3);
    expect(summaries.map((l) => l.offline_s)).toEqual([60, 120, 180]);
    expect(String(summaries[0]?.msg)).toMatch(/1 attempts, \d+ probes; last error: connection refused/);
    const s = uplink.stats();
    expect(s.attempts).toBe(1);
    // About one probe per 7.5 s once the window reached 15 s (plus the quick first ones).
    expect(s.probes).toBeGreaterThanOrEqual(12);
    expect(s.probes).toBeLessThanOrEqual(60);
    expect(out.length).toBeLessThanOrEqual(6);
  }, 60_000);
});

describe('uplink log: mqtts:// to a plain MQTT port', () => {
  it('names the likely cause (a plain port), not "read ECONNRESET"', async () => {
    // A plain MQTT broker (aedes) reads the TLS hello as a broken packet and closes.
    const broker = new EmbeddedBroker();
    await broker.start();
    closers.push(() => broker.stop());
    const port = new URL(broker.url).port;
    const out: Record<string, unknown>[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _e, cb) {
        for (const l of chunk.toString().split('\n').filter(Boolean)) out.push(JSON.parse(l) as Record<string, unknown>);
        cb();
      },
    });
    const config = testConfig({ url: `mqtts://127.0.0.1:${port}`, id: 'tls-gw' });
    const buffer = new SqliteBuffer({ dataDir: tempDir(), maxBytes: 1 << 30, maxAgeMs: 86_400_000, onFull: 'drop_oldest', synchronous: 'normal', maxReadingsPerRow: 1, clock: new FakeClock() });
    closers.push(() => buffer.close());
    const clock = new FakeClock({ wall: Date.now() });
    const uplink = new MqttUplink({ config: config.uplink, gatewayId: 'tls-gw', topics: Topics.forGateway('tls-gw'), buffer, clock, log: createLogger({ level: 'info', pretty: false, destination }), version: 't', startedAt: Date.now() });
    closers.push(() => uplink.stop(0));
    uplink.start();
    for (let i = 0; i < 200 && out.length === 0; i++) {
      clock.advance(100);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(String(out[0]?.msg)).toMatch(/^uplink: TLS handshake failed: the broker's port closed the connection \((ECONNRESET|EPIPE)\) — is it a plain MQTT port\?/);
  }, 30_000);
});

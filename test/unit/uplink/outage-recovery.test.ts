/**
 * Real outages between a gateway and an aedes broker, through the chaos proxy, with
 * the default reconnect settings (min 1 s, max 2 min, probe 15 s):
 * - the link is cut for 30 s (new connections closed at once): delivery resumes within
 *   20 s of the link returning (+ slack for a loaded machine), nothing is lost;
 * - the link is black-holed (connections open, nothing flows): health says `stalled`
 *   within seconds, then not `online` once the ack timeout drops the connection;
 *   after the heal every seq arrives.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedBroker } from '../../../src/demo/embedded-broker.js';
import { Gateway } from '../../../src/runtime/gateway.js';
import { ChaosProxy } from '../../chaos/proxy.js';
import { SeqCollector } from '../../helpers/seq-collector.js';
import { simDevice, testConfig } from '../../helpers/gateway-config.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const DEFAULTS = { min: '1s', max: '2m' };
const noTap = { acked: () => {}, published: () => {}, event: () => {} };

async function until(what: string, cond: () => boolean, ms: number): Promise<number> {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > ms) throw new Error(`not within ${ms} ms: ${what}`);
    await sleep(50);
  }
  return performance.now() - t0;
}

describe('outage recovery through a proxy (real sockets, default reconnect settings)', () => {
  let gateway: Gateway | undefined;
  let broker: EmbeddedBroker | undefined;
  let proxy: ChaosProxy | undefined;
  afterEach(async () => {
    await gateway?.stop();
    await proxy?.close();
    await broker?.stop();
    gateway = proxy = broker = undefined;
  });

  async function setup(id: string, uplink: Record<string, unknown> = {}) {
    broker = new EmbeddedBroker();
    await broker.start();
    const b = broker;
    proxy = new ChaosProxy(() => b.port, `citygate/${id}`, noTap, 4);
    await proxy.start();
    const config = testConfig({ id, url: `mqtt://127.0.0.1:${proxy.port}`, devices: [simDevice('a', '20ms', 3)], uplink: { reconnect: DEFAULTS, ...uplink } });
    const seen = new SeqCollector(`citygate/${id}`);
    let lastData = 0;
    broker.onPublish((m) => {
      seen.add(m.topic, m.payload);
      if (m.topic.includes('/data/')) lastData = performance.now();
    });
    gateway = new Gateway(config);
    await gateway.start();
    await until('first readings', () => seen.unique.size > 100, 10_000);
    return { config, seen, lastData: () => lastData, gw: gateway };
  }

  async function endOfStream(gw: Gateway, seen: SeqCollector): Promise<void> {
    for (const d of gw.devices) await d.supervisor.stop();
    gw.committer.flush();
    const last = gw.buffer.stats().nextSeq - 1;
    await until(`every seq up to ${last}`, () => seen.missing(1, last).length === 0, 20_000);
    expect(seen.missing(1, last)).toEqual([]);
    expect(seen.orderViolations()).toEqual([]);
  }

  it('a 30 s cut: delivery resumes within 20 s of the link returning, nothing lost', { timeout: 90_000 }, async () => {
    const { seen, lastData, gw } = await setup('cut-gw');
    proxy?.setMode('cut');
    await sleep(30_000);
    expect(gw.uplink.stats().state).not.toBe('online');
    // While cut, the proxy accepts and closes: the probes see that and no MQTT attempt follows.
    const attemptsBefore = gw.uplink.stats().attempts ?? 0;
    expect(attemptsBefore).toBe(1); // the first connection only: no MQTT attempt during the cut
    expect(gw.uplink.stats().probes).toBeGreaterThanOrEqual(3);
    const healedAt = performance.now();
    proxy?.setMode('pass');
    await until('data after the heal', () => lastData() > healedAt, 30_000);
    const recoveryS = (lastData() - healedAt) / 1000;
    console.log(`first delivery ${recoveryS.toFixed(1)} s after a 30 s cut healed; probes ${gw.uplink.stats().probes}, attempts ${gw.uplink.stats().attempts} (${attemptsBefore} before the heal)`);
    expect(recoveryS).toBeLessThanOrEqual(20 + 5);
    await endOfStream(gw, seen);
  });

  it('a black hole shows stalled, then not online; after the heal every seq arrives', { timeout: 90_000 }, async () => {
    // ack_timeout 9 s: stalled after 3 s without an acknowledgement, dropped at 9 s.
    const { seen, gw } = await setup('hole-gw', { ack_timeout: '9s', keepalive: '60s' });
    expect(gw.uplink.stats().state).toBe('online');
    expect(gw.health().uplink.since_ack_s).toBeLessThanOrEqual(2);
    proxy?.setMode('blackhole');
    const stalledAfter = await until('stalled', () => gw.uplink.stats().state === 'stalled', 8_000);
    expect(stalledAfter).toBeGreaterThan(2_000);
    expect(gw.health().uplink.state).toBe('stalled');
    expect(gw.health().uplink.since_ack_s).toBeGreaterThanOrEqual(3);
    await until('not online after the ack timeout', () => !['online', 'stalled'].includes(gw.uplink.stats().state), 12_000);
    // Held open but silent, new connections get no CONNACK: it never shows online meanwhile.
    for (let i = 0; i < 10; i++) {
      expect(gw.uplink.stats().state).not.toBe('online');
      await sleep(200);
    }
    proxy?.setMode('pass');
    await until('online again', () => gw.uplink.stats().state === 'online', 40_000);
    await endOfStream(gw, seen);
  });
});

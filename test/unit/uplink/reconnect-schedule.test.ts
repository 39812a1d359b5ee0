/**
 * The reconnect schedule on the injected clock: after outages of 20 s, 2 min and
 * 10 min, the first successful CONNECT follows the broker's return within
 * reconnect.probe + reconnect.min (+ the attempt itself), whatever the jitter draws;
 * while the broker is unreachable only cheap TCP probes go out; refusals back off to
 * reconnect.max; a dead first broker costs seconds before the second is tried.
 */
import { seededRandom } from '../../../src/core/seeded-random.js';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/core/fake-clock.js';
import { Backoff } from '../../../src/core/backoff.js';
import { parseBrokers, type Broker } from '../../../src/uplink/brokers.js';
import { Redialer } from '../../../src/uplink/redial.js';
import { ReconnectPolicy, WASTED_LIMIT, failureKind } from '../../../src/uplink/reconnect-policy.js';
import { NetWatch } from '../../../src/uplink/net-watch.js';

/** Defaults of uplink.reconnect. */
const T = { min: 1000, max: 120_000, probe: 15_000 };
/** A full MQTT attempt that succeeds takes this long (simulated). */
const CONNECT_MS = 300;
const STEP = 100;

const flush = async (): Promise<void> => {
  for (let i = 0; i < 3; i++) await Promise.resolve();
};

interface Run {
  recoveryMs: number;
  probesDuringOutage: number;
  attemptsDuringOutage: number;
  broker: number;
}

/**
 * One gateway, online until t = 5 s, then brokers listed in `down` are unreachable
 * for `outageMs`; returns how long after their return the gateway was online again.
 */
async function outage(outageMs: number, random: () => number, o: { brokers?: string[]; down?: number[]; netChangeAtReturn?: boolean } = {}): Promise<Run> {
  const clock = new FakeClock({ random });
  const brokers = parseBrokers(o.brokers ?? ['mqtt://127.0.0.1:1883']);
  const down = new Set(o.down ?? brokers.map((b) => b.index));
  const dropAt = 5000;
  const backAt = dropAt + outageMs;
  const reachable = (b: Broker): boolean => !(down.has(b.index) && clock.mono() >= dropAt && clock.mono() < backAt);
  const seen: { at?: number } = {};
  let onBroker = -1;
  const counts = { probes: 0, attempts: 0 };
  const inOutage = (): boolean => clock.mono() >= dropAt && clock.mono() < backAt;
  const redial: Redialer = new Redialer(brokers, T, clock, {
    probe: (b) => {
      if (inOutage()) counts.probes++;
      return Promise.resolve(reachable(b));
    },
    connect: (b) => {
      if (inOutage()) counts.attempts++;
      if (!reachable(b)) {
        clock.setTimer(0, () => redial.failed(failureKind(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }))));
        return;
      }
      clock.setTimer(CONNECT_MS, () => {
        redial.connected();
        seen.at = clock.mono();
        onBroker = b.index;
      });
    },
  });
  redial.start();
  clock.advance(CONNECT_MS);
  expect(seen.at).toBe(CONNECT_MS);
  clock.advance(dropAt - CONNECT_MS);
  delete seen.at;
  redial.failed('unreachable'); // the link drops
  const limit = backAt + 10 * 60_000;
  let netChanged = false;
  while (seen.at === undefined && clock.mono() < limit) {
    clock.advance(STEP);
    await flush();
    if (o.netChangeAtReturn && !netChanged && clock.mono() >= backAt) netChanged = redial.networkChanged();
  }
  redial.stop();
  const at: number | undefined = seen.at;
  if (at === undefined) throw new Error('never came back');
  return { recoveryMs: at - Math.max(backAt, dropAt), probesDuringOutage: counts.probes, attemptsDuringOutage: counts.attempts, broker: onBroker };
}

describe('reconnect schedule (fake clock)', () => {
  for (const [name, ms] of [['20 s', 20_000], ['2 min', 120_000], ['10 min', 600_000]] as const) {
    it(`after a ${name} outage the gateway is online within probe + min + the attempt of the broker's return`, async () => {
      const bound = T.probe + T.min + CONNECT_MS + STEP;
      const runs: Run[] = [];
      for (let seed = 1; seed <= 25; seed++) runs.push(await outage(ms, seededRandom(seed * 7919 + ms)));
      // The worst draws: every delay at the top of its window.
      runs.push(await outage(ms, () => 0.999_999));
      const worst = Math.max(...runs.map((r) => r.recoveryMs));
      expect(worst).toBeLessThanOrEqual(bound);
      expect(bound).toBeLessThanOrEqual(20_000);
      // While unreachable: probes only, no TLS/MQTT attempt; about one per probe/2 on average.
      for (const r of runs) expect(r.attemptsDuringOutage).toBe(0);
      const probes = runs.slice(0, 25).reduce((n, r) => n + r.probesDuringOutage, 0) / 25;
      expect(probes).toBeLessThanOrEqual(ms / (T.probe / 2) + 8);
      expect(probes).toBeGreaterThanOrEqual(ms / T.probe);
    });
  }

  it('the plain exponential backoff it replaces misses that bound (the bound is not trivial)', () => {
    // Old schedule: Backoff(min 1s, max 2m, jitter 0.5), a full attempt at each step after a drop at 0.
    for (const outageMs of [120_000, 600_000]) {
      let worst = 0;
      for (let seed = 1; seed <= 25; seed++) {
        const b = new Backoff({ base: T.min, max: T.max, jitter: 0.5 }, seededRandom(seed * 7919 + outageMs));
        let t = 0;
        while (t < outageMs) t += b.next();
        worst = Math.max(worst, t - outageMs);
      }
      expect(worst).toBeGreaterThan(20_000);
    }
  });

  it('refusals back off exponentially up to reconnect.max, with full attempts', () => {
    const p = new ReconnectPolicy(T, () => 0.999_999);
    const delays = Array.from({ length: 12 }, () => p.failed('refused'));
    expect(delays.every((s) => s.action === 'connect')).toBe(true);
    expect(delays[0]?.delay).toBeLessThanOrEqual(T.min);
    expect(delays.at(-1)?.delay).toBe(T.max);
    for (let i = 1; i < delays.length; i++) expect((delays[i] as { delay: number }).delay).toBeGreaterThanOrEqual((delays[i - 1] as { delay: number }).delay);
  });

  it('a port that holds TCP but never completes MQTT: after a few rounds the attempts wait for the backoff', () => {
    const p = new ReconnectPolicy(T, () => 0.999_999);
    const attempts = [];
    for (let i = 0; i < WASTED_LIMIT + 6; i++) {
      attempts.push(p.probeOk());
      expect(p.failed('unreachable').action).toBe('probe'); // probes go on, capped low
    }
    expect(attempts.every((s) => s.action === 'connect')).toBe(true);
    expect(attempts.slice(0, WASTED_LIMIT).every((s) => s.delay <= T.min)).toBe(true);
    const backoff = attempts.slice(WASTED_LIMIT).map((s) => s.delay);
    for (let i = 1; i < backoff.length; i++) expect(backoff[i]).toBeGreaterThanOrEqual(backoff[i - 1] as number);
    expect(backoff.at(-1)).toBeGreaterThan(30_000);
    // The port really closes (a probe fails): back to fast attempts.
    p.probeFailed();
    expect(p.probeOk().delay).toBeLessThanOrEqual(T.min);
  });

  it('classifies failures: network codes are unreachable, refusals and certificates are not', () => {
    const e = (code: unknown): Error => Object.assign(new Error('x'), { code });
    for (const c of ['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET']) expect(failureKind(e(c))).toBe('unreachable');
    for (const c of [5, 135, 0x8e, 'DEPTH_ZERO_SELF_SIGNED_CERT', 'ERR_TLS_CERT_ALTNAME_INVALID', 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED']) expect(failureKind(e(c))).toBe('refused');
    expect(failureKind(new Error('no CONNACK within 10000ms'))).toBe('unreachable');
  });

  it('a network change (the modem re-attached) ends the wait: online within 2·min of it (probe, then attempt), even after 10 min', async () => {
    for (let seed = 1; seed <= 10; seed++) {
      const r = await outage(600_000, seededRandom(seed), { netChangeAtReturn: true });
      expect(r.recoveryMs).toBeLessThanOrEqual(2 * T.min + CONNECT_MS + 2 * STEP);
    }
  });

  it('NetWatch reports an address change once, and ignores loopback', () => {
    const lo = { address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4' as const, mac: '00:00:00:00:00:00', internal: true, cidr: '127.0.0.1/8' };
    const wwan = (address: string) => ({ address, netmask: '255.255.255.0', family: 'IPv4' as const, mac: '02:00:00:00:00:01', internal: false, cidr: `${address}/24` });
    let ifs: NodeJS.Dict<(typeof lo)[]> = { lo: [lo] };
    const w = new NetWatch(() => ifs);
    expect(w.changed()).toBe(false);
    ifs = { lo: [lo, { ...lo, address: '127.0.0.2' }] };
    expect(w.changed()).toBe(false);
    ifs = { lo: [lo], wwan0: [wwan('10.64.1.7')] };
    expect(w.changed()).toBe(true);
    expect(w.changed()).toBe(false);
    ifs = { lo: [lo], wwan0: [wwan('10.64.9.3')] };
    expect(w.changed()).toBe(true);
  });

  it('a dead first broker costs seconds: the second is online within 2·min of the first failure', async () => {
    const r = await outage(60 * 60_000, seededRandom(42), { brokers: ['mqtt://127.0.0.1:1883', 'mqtt://127.0.0.2:1883'], down: [0] });
    expect(r.broker).toBe(1);
    expect(r.recoveryMs).toBeLessThanOrEqual(2 * T.probe);
  });
});

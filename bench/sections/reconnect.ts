/**
 * The reconnect schedule (issue 8): time from the broker becoming reachable again to
 * the gateway online, after 20 s, 2 min and 10 min outages, with the default settings
 * (reconnect.min 1 s, probe 15 s, max 2 min) — on the injected clock, the real
 * Redialer and ReconnectPolicy, an attempt taking 300 ms. The baseline is the schedule
 * it replaced (exponential backoff to 2 min, jitter 0.5) over the same draws. The
 * network itself is measured from outside by the link tests; this is the schedule alone.
 */
import { seededRandom } from '../../src/core/seeded-random.js';
import type { BenchRow, BenchSection } from '../types.js';
import { FakeClock } from '../../src/core/fake-clock.js';
import { Backoff } from '../../src/core/backoff.js';
import { parseBrokers } from '../../src/uplink/brokers.js';
import { Redialer } from '../../src/uplink/redial.js';

const T = { min: 1000, max: 120_000, probe: 15_000 };
const ATTEMPT_MS = 300;

/** One outage: ms from the broker's return to online, and the probes and failed MQTT attempts meanwhile. */
async function recovery(outageMs: number, seed: number): Promise<{ ms: number; probes: number; attempts: number }> {
  const clock = new FakeClock({ random: seededRandom(seed) });
  const back = 1000 + outageMs;
  const up = (): boolean => clock.mono() >= back;
  const state: { at?: number; probes: number; attempts: number } = { probes: 0, attempts: 0 };
  const r: Redialer = new Redialer(parseBrokers(['mqtt://127.0.0.1:1883']), T, clock, {
    probe: () => {
      state.probes++;
      return Promise.resolve(up());
    },
    connect: () => {
      if (!up()) state.attempts++;
      if (!up()) clock.setTimer(0, () => r.failed('unreachable'));
      else clock.setTimer(ATTEMPT_MS, () => (state.at = clock.mono()));
    },
  });
  clock.advance(1000);
  r.failed('unreachable');
  for (let i = 0; i < 1e6 && state.at === undefined; i++) {
    clock.advance(50);
    await Promise.resolve();
    await Promise.resolve();
  }
  r.stop();
  return { ms: (state.at ?? Infinity) - back, probes: state.probes, attempts: state.attempts };
}

/** The replaced schedule: attempts at Backoff delays; ms from the return to the next attempt (+ the attempt). */
function oldRecovery(outageMs: number, seed: number): number {
  const b = new Backoff({ base: T.min, max: T.max, jitter: 0.5 }, seededRandom(seed));
  let t = 0;
  while (t < outageMs) t += b.next();
  return t - outageMs + ATTEMPT_MS;
}

const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number;

const section: BenchSection = {
  name: 'reconnect schedule',
  async run(ctx) {
    const draws = Math.max(50, Math.round(400 * ctx.scale));
    const rows: BenchRow[] = [];
    for (const [name, ms] of [['20 s', 20_000], ['2 min', 120_000], ['10 min', 600_000]] as const) {
      const now: number[] = [];
      const old: number[] = [];
      let probes = 0;
      let attempts = 0;
      for (let s = 1; s <= draws; s++) {
        const r = await recovery(ms, s * 31 + ms);
        now.push(r.ms);
        probes += r.probes;
        attempts += r.attempts;
        old.push(oldRecovery(ms, s * 31 + ms));
      }
      now.sort((a, b) => a - b);
      old.sort((a, b) => a - b);
      const p99 = pct(now, 0.99) / 1000;
      const oldP99 = pct(old, 0.99) / 1000;
      rows.push({
        name: `reconnect: online after the broker returns, ${name} outage, p99`,
        value: Number(p99.toFixed(1)),
        unit: 's',
        baseline: Number(oldP99.toFixed(1)),
        ratio: Number((p99 / oldP99).toFixed(2)),
        target: '<= 20 s',
        ok: (now.at(-1) as number) / 1000 <= 20,
        note: `p50 ${(pct(now, 0.5) / 1000).toFixed(1)} s, max ${((now.at(-1) as number) / 1000).toFixed(1)} s over ${draws} draws; ${(probes / draws).toFixed(0)} probes and ${(attempts / draws).toFixed(1)} MQTT attempts per outage; the old backoff: p50 ${(pct(old, 0.5) / 1000).toFixed(1)} s`,
      });
    }
    return rows;
  },
};

export default section;

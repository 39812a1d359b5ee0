/**
 * mode: counter — a tipping-bucket rain gauge, a traffic-loop detector, a water or energy
 * meter's pulse output. Debounced transitions matching `edge` are pulses. Every `report`
 * the driver emits:
 * - `count`: pulses × scale in the interval (mm of rain in the last minute),
 * - `rate`:  that per `rate_per` over the interval's measured length (mm/h, vehicles/h),
 * - `total`: the running total × scale, which survives restarts through ctx.state.
 *
 * The total is persisted (in raw pulses) at each report and at stop, in the same step as
 * the report is emitted, so the emitted total and the stored one agree. A crash loses at
 * most the pulses of the current interval; a clean stop loses none (they are stored and
 * appear in the next run's total, though not in any interval's count).
 *
 * Quality: a window's count is `good` only when the gateway can vouch for it (vouch.ts:
 * no burst was rejected around an event-loop stall, and none lasted like a cut-short
 * pulse); otherwise all three points are `uncertain`, and health counts the window in
 * `uncertain_reports` and its reasons in `uncertain_loop_stall` / `uncertain_untimed_burst` /
 * `uncertain_short_burst` / `uncertain_long_burst` / `uncertain_late_edge` /
 * `uncertain_repeated_edge`.
 */
import { describeError } from '../../core/errors.js';
import { Debouncer } from './debounce.js';
import { EventLoopLag, lagResolutionMs } from './loop-lag.js';
import { LineReader, every, type ModeEnv, type ModeRunner } from './mode.js';
import { COUNTER_POINTS } from './schema.js';
import { PulseTally, isPulse, parseStoredTotal } from './tally.js';
import { CountVouch } from './vouch.js';

/** ctx.state key of the running total, in raw pulses. */
export const TOTAL_KEY = 'total_pulses';

export async function startCounter(env: ModeEnv): Promise<ModeRunner> {
  const { ctx, line, settings, where } = env;
  const reader = new LineReader(env);

  const stored = parseStoredTotal(ctx.state.get(TOTAL_KEY));
  if (stored === 'damaged') {
    ctx.health.error(new Error(`stored ${TOTAL_KEY} is not a pulse count; the total restarts at 0`), where);
  }
  const tally = new PulseTally(typeof stored === 'number' ? stored : 0, ctx.clock.mono());

  const persist = (): boolean => {
    try {
      ctx.state.set(TOTAL_KEY, tally.totalPulses);
      return true;
    } catch (err) {
      ctx.health.error(new Error(`saving the running total failed: ${describeError(err)}`), where);
      return false;
    }
  };

  const first = await line.read();
  const debouncer = new Debouncer(ctx.clock, settings.debounceMs, first, (level) => {
    if (isPulse(settings.edge, level)) tally.pulse();
  });
  const vouch = new CountVouch(settings.debounceMs);
  const lag = (env.loopLag ?? ((res: number) => new EventLoopLag(res)))(lagResolutionMs(settings.debounceMs));
  debouncer.onRejected = (spanMs) => {
    ctx.health.count('bounces_rejected');
    vouch.burstRejected(spanMs);
  };
  debouncer.onAccepted = (spanMs) => vouch.burstAccepted(spanMs);
  debouncer.onLate = () => vouch.lateEdge();
  // Timestamped edges (gpiomon) alternate; one repeating the last level is an edge misread (vouch.ts).
  let lastStamped = first;
  const unwatch = line.watch(
    (v, at) => {
      if (at !== undefined) {
        vouch.timestamped = true;
        if (v === lastStamped) vouch.repeatedEdge();
        lastStamped = v;
      }
      debouncer.raw(v, at);
    },
    (err) => ctx.health.error(err, where),
  );

  let lineOk = true;
  const report = (): void => {
    const r = tally.report(ctx.clock.mono(), settings.scale, settings.ratePerMs);
    const saved = persist();
    const verdict = vouch.close(lag.closeWindow(), debouncer.settling);
    for (const reason of verdict.reasons) ctx.health.count(`uncertain_${reason}`);
    // A line that stopped answering may also have stopped interrupting: say so.
    const quality = lineOk && saved && verdict.quality === 'good' ? 'good' : 'uncertain';
    if (quality === 'uncertain') ctx.health.count('uncertain_reports');
    ctx.emit([
      { point: COUNTER_POINTS.count, value: r.count, quality },
      { point: COUNTER_POINTS.rate, value: r.rate, quality },
      { point: COUNTER_POINTS.total, value: r.total, quality },
    ]);
    ctx.health.count('pulses', r.pulses);
    if (lineOk) ctx.health.success();
  };

  const cancel = every(ctx.clock, settings.reportMs, () => {
    report();
    // Liveness: the next report's quality depends on the line still reading.
    void reader.read().then((v) => {
      lineOk = v !== undefined;
    });
  });

  return {
    async stop() {
      cancel();
      unwatch();
      debouncer.dispose();
      lag.stop();
      persist();
    },
  };
}

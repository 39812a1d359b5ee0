/**
 * docs/field-notes.md#no-real-time-clock: a Pi has no RTC. Readings stamped before the clock is plausible
 * are "uncertain"; a clock step is reported with the exact last seq stamped with the
 * old clock, so consumers can correct.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/core/fake-clock.js';
import { TimeWatch, MIN_PLAUSIBLE_MS } from '../../../src/runtime/time-watch.js';
import { DevicePipeline } from '../../../src/pipeline/pipeline.js';
import { Gateway } from '../../../src/runtime/gateway.js';
import { simDevice, testConfig } from '../../helpers/gateway-config.js';

describe('time', () => {
  it('a wall clock from before 2025 is untrusted and marks readings uncertain', () => {
    const clock = new FakeClock({ wall: Date.UTC(1970, 0, 2) });
    const watch = new TimeWatch(clock, () => {});
    const p = new DevicePipeline('d', [], clock, () => watch.trusted());
    expect(p.process({ point: 'x', value: 1 })?.quality).toBe('uncertain');
    expect(p.process({ point: 'x', value: 1, quality: 'bad' })?.quality).toBe('bad');
    clock.stepWall(MIN_PLAUSIBLE_MS);
    expect(p.process({ point: 'x', value: 1 })?.quality).toBe('good');
  });

  it('detects a step once, ignores drift below the threshold', () => {
    const clock = new FakeClock();
    const steps: number[] = [];
    const watch = new TimeWatch(clock, (o) => steps.push(o), 2000);
    clock.advance(10_000);
    watch.check();
    clock.stepWall(1500);
    watch.check();
    expect(steps).toEqual([]);
    clock.stepWall(-3_600_000);
    watch.check();
    watch.check();
    expect(steps).toEqual([-3_600_000 + 1500]);
  });

  it('the gateway reports a clock step with the last seq stamped by the old clock', async () => {
    const clock = new FakeClock({ wall: Date.UTC(2026, 5, 1) });
    const config = testConfig({ url: 'mqtt://127.0.0.1:1', devices: [simDevice('s', '100ms', 2)] });
    const gw = new Gateway(config, { clock });
    await gw.start();
    clock.advance(1000);
    gw.committer.flush();
    const before = gw.buffer.stats().nextSeq - 1;
    clock.stepWall(86_400_000);
    clock.advance(1000);
    gw.committer.flush();
    const events = gw.buffer.readEvents(100).map((e) => JSON.parse(e.payload));
    const step = events.find((e) => e.type === 'clock_step');
    expect(step).toMatchObject({ offset_ms: 86_400_000 });
    expect(step.last_seq_before).toBeGreaterThanOrEqual(before);
    // every reading after the boundary carries the new clock, every one before the old
    const rows = gw.buffer.read(0, 1000).flatMap((r) => JSON.parse(`[${r.json}]`) as { seq: number; ts: number }[]);
    for (const r of rows) {
      if (r.seq <= step.last_seq_before) expect(r.ts).toBeLessThan(Date.UTC(2026, 5, 2));
      else expect(r.ts).toBeGreaterThanOrEqual(Date.UTC(2026, 5, 2));
    }
    const stopping = gw.stop();
    clock.advance(10_000);
    await stopping;
  });
});

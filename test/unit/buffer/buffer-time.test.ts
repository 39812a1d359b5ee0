/**
 * Time in the buffer is measured in time: an NTP step of +20 days (a Pi booting from
 * fake-hwclock after three weeks off) must not expire the buffer as max_age, and a step
 * back must not make ages negative or stop expiry.
 */
import { describe, expect, it } from 'vitest';
import { SqliteBuffer } from '../../../src/buffer/sqlite-buffer.js';
import { BufferTime, type TimeSources } from '../../../src/buffer/buffer-time.js';
import { FakeClock } from '../../../src/core/fake-clock.js';
import { tempDir } from '../../helpers/gateway-config.js';

const DAY = 86_400_000;

class Sources implements TimeSources {
  monoMs = 1_000_000;
  wallMs = Date.UTC(2026, 2, 1);
  constructor(public bootId = 'boot-1') {}
  mono = () => this.monoMs;
  wall = () => this.wallMs;
  advance(ms: number) {
    this.monoMs += ms;
    this.wallMs += ms;
  }
}

function buffer(src: Sources, dataDir = tempDir()) {
  const clock = new FakeClock();
  const b = new SqliteBuffer({ dataDir, maxBytes: 1 << 30, maxAgeMs: 14 * DAY, onFull: 'drop_oldest', synchronous: 'normal', maxReadingsPerRow: 10, clock, time: src });
  return { b, dataDir };
}

const readings = (n: number) => Array.from({ length: n }, (_, i) => ({ device: 'd', point: 'p', value: i, ts: Date.UTC(2026, 2, 1) + i, quality: 'good' as const }));

describe('buffer clock', () => {
  it('a +20 d wall-clock step expires nothing; real elapsed time does', () => {
    const src = new Sources();
    const { b } = buffer(src);
    b.commit(readings(10));
    src.wallMs += 20 * DAY; // NTP steps the wall clock forward
    expect(b.expire()).toBe(0);
    expect(b.stats().oldestAgeMs).toBeLessThan(1000);
    src.advance(14 * DAY + 1000); // fourteen days really pass
    expect(b.expire()).toBe(10);
    const ev = b.readEvents(10).map((e) => JSON.parse(e.payload));
    expect(ev.find((e) => e.type === 'buffer_dropped')).toMatchObject({ reason: 'max_age', first_seq: 1, last_seq: 10 });
  });

  it('a step back never makes ages negative, and expiry keeps working', () => {
    const src = new Sources();
    const { b } = buffer(src);
    b.commit(readings(5));
    src.wallMs -= 3 * DAY;
    expect(b.stats().oldestAgeMs).toBeGreaterThanOrEqual(0);
    src.advance(15 * DAY);
    expect(b.expire()).toBe(5);
  });

  it('across a restart in the same boot the monotonic clock carries on', () => {
    const src = new Sources();
    const { b, dataDir } = buffer(src);
    b.commit(readings(3));
    b.close();
    src.advance(2 * DAY);
    src.wallMs += 30 * DAY; // and the wall clock jumped meanwhile: ignored
    const again = buffer(src, dataDir).b;
    const age = again.stats().oldestAgeMs!;
    expect(age).toBeGreaterThanOrEqual(2 * DAY);
    expect(age).toBeLessThan(2 * DAY + 60_000);
    again.close();
  });

  it('after a reboot, time off counts only when the wall clock vouches for it', () => {
    const saved = new BufferTime(new Sources('boot-1'), undefined).snapshot();
    const rebooted = new Sources('boot-2');
    rebooted.monoMs = 5000; // monotonic restarts at boot
    rebooted.wallMs = saved.wall + 3 * DAY; // RTC kept time: 3 days off
    expect(new BufferTime(rebooted, saved).now() - saved.bt).toBeGreaterThanOrEqual(3 * DAY);
    const noRtc = new Sources('boot-3');
    noRtc.monoMs = 5000;
    noRtc.wallMs = Date.UTC(1970, 0, 2); // no RTC, no NTP yet
    expect(new BufferTime(noRtc, saved).now()).toBe(saved.bt);
    const backwards = new Sources('boot-4');
    backwards.monoMs = 5000;
    backwards.wallMs = saved.wall - DAY; // fake-hwclock restored an older time
    expect(new BufferTime(backwards, saved).now()).toBe(saved.bt);
  });
});

/**
 * The boot id under systemd's ProcSubset=pid: CITYGATE_BOOT_ID (the unit's %b) first,
 * /proc second, and without either every start is taken for a reboot, said once.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, existsSync } from 'node:fs';
import { BOOT_ID_PROC, normalizeBootId, readBootId } from '../../../src/buffer/boot-id.js';
import { BufferTime, systemTimeSources, type TimeSources } from '../../../src/buffer/buffer-time.js';
import { SqliteBuffer } from '../../../src/buffer/sqlite-buffer.js';
import { healthSnapshot } from '../../../src/runtime/health-snapshot.js';
import { FakeClock } from '../../../src/core/fake-clock.js';
import { tempDir } from '../../helpers/gateway-config.js';

const DASHED = '0f5e2c3a-9b1d-4e7f-8a6b-5c4d3e2f1a0b';
const PLAIN = DASHED.replaceAll('-', '');
const noProc = (f: string): string => {
  throw Object.assign(new Error(`EACCES: ${f}`), { code: 'EACCES' });
};

describe('readBootId', () => {
  it('prefers CITYGATE_BOOT_ID (systemd %b: 32 hex digits) and returns the kernel’s dashed form', () => {
    expect(readBootId({ CITYGATE_BOOT_ID: PLAIN.toUpperCase() }, BOOT_ID_PROC, noProc)).toEqual({ id: DASHED, source: 'systemd' });
    expect(normalizeBootId(`${DASHED}\n`)).toBe(DASHED);
    expect(normalizeBootId('%b')).toBeUndefined();
  });
  it('falls back to /proc when the variable is missing or is not a boot id (an unexpanded %b)', () => {
    expect(readBootId({}, '/x', () => `${DASHED}\n`)).toEqual({ id: DASHED, source: 'proc' });
    const r = readBootId({ CITYGATE_BOOT_ID: '%b' }, '/x', () => DASHED);
    expect(r).toMatchObject({ id: DASHED, source: 'proc' });
    expect(r.problem).toMatch(/CITYGATE_BOOT_ID is set but is not a boot id/);
  });
  it('neither: unknown, and the reason names both places and the fix', () => {
    const r = readBootId({}, BOOT_ID_PROC, noProc);
    expect(r).toMatchObject({ id: 'unknown', source: 'unknown' });
    expect(r.problem).toContain('CITYGATE_BOOT_ID is not set');
    expect(r.problem).toContain(`${BOOT_ID_PROC} cannot be read (EACCES)`);
    expect(r.problem).toContain('every start is taken for a reboot');
    expect(r.problem).toContain('Environment=CITYGATE_BOOT_ID=%b');
  });
  it('on this machine, /proc and %b-style agree', () => {
    if (!existsSync(BOOT_ID_PROC)) throw new Error(`${BOOT_ID_PROC} missing: these unit tests run on Linux`);
    const kernel = readFileSync(BOOT_ID_PROC, 'utf8').trim();
    expect(readBootId({}).id).toBe(kernel);
    expect(readBootId({ CITYGATE_BOOT_ID: kernel.replaceAll('-', '') }).id).toBe(kernel);
  });
});

describe('an unknown boot is a reboot, never the same boot', () => {
  const src = (bootId: string, mono: number, wall = Date.UTC(2026, 5, 1)): TimeSources => ({ bootId, mono: () => mono, wall: () => wall });
  it('buffer clock: "unknown" twice does not carry monotonic time across (that could expire readings early)', () => {
    // Saved at mono 1 h; "now" at mono 5 h after an unseen reboot, wall clock not vouching (0).
    const saved = { boot: 'unknown', mono: 3_600_000, bt: 10_000_000, wall: 0 };
    const t = new BufferTime(src('unknown', 5 * 3_600_000, 0), saved);
    expect(t.now()).toBe(10_000_000); // nothing added: an old reading lives a little longer
    const same = new BufferTime(src(DASHED, 5 * 3_600_000, 0), { ...saved, boot: DASHED });
    expect(same.now()).toBe(10_000_000 + 4 * 3_600_000); // a known same boot: monotonic time counts
  });
  it('seq with synchronous=normal: an unknown boot skips the reserved seqs and announces them', () => {
    const dataDir = tempDir();
    const clock = new FakeClock();
    const open = (bootId: string) => new SqliteBuffer({ dataDir, maxBytes: 1 << 30, maxAgeMs: 86_400_000, onFull: 'drop_oldest', synchronous: 'normal', maxReadingsPerRow: 10, clock, seqBlock: 100, time: { ...src(bootId, 1000), bootIdSource: bootId === 'unknown' ? 'unknown' : 'proc' } });
    const a = open('unknown');
    a.commit([{ device: 'd', point: 'p', value: 1, ts: 1, quality: 'good' }]);
    // A crash: `a` is never closed (its ledger stays unclean); the next start still has no boot id.
    const b = open('unknown');
    expect(b.stats().nextSeq).toBeGreaterThan(2);
    expect(b.stats().bootId).toBe('unknown');
    const lost = b.readEvents(10).map((e) => JSON.parse(e.payload) as { type: string; reason: string }).filter((e) => e.type === 'buffer_lost');
    expect(lost).toMatchObject([{ reason: 'unclean_shutdown', first_seq: 2 }]);
    b.close();
    a.close();
  });
  it('health says where the boot id came from', () => {
    const t = systemTimeSources({ id: 'unknown', source: 'unknown', problem: 'x' });
    expect(t).toMatchObject({ bootId: 'unknown', bootIdSource: 'unknown', bootIdProblem: 'x' });
    const b = new SqliteBuffer({ dataDir: tempDir(), maxBytes: 1 << 30, maxAgeMs: 86_400_000, onFull: 'drop_oldest', synchronous: 'full', maxReadingsPerRow: 10, clock: new FakeClock(), time: t });
    const h = healthSnapshot({
      gatewayId: 'g',
      dataDir: tempDir(),
      maxBytes: 1 << 30,
      ts: 0,
      uptimeMs: 0,
      buffer: b.stats(),
      waitingInMemory: 0,
      uplink: { state: 'offline', reconnects: 0, published: 0, ackedReadings: 0 } as never,
      devices: [],
      buses: {},
    });
    expect(h.buffer.boot_id).toBe('unknown');
    b.close();
  });
});

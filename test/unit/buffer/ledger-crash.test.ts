/**
 * The seq ledger under every power cut the crash-state model allows
 * (test/helpers/crash-disk.ts): the recovered ceiling is never below a seq the
 * ledger had promised before the crash, and no crash leaves an unreadable file.
 */
import { describe, expect, it } from 'vitest';
import { CrashDisk, crashStates, imageOf, type CrashState } from '../../helpers/crash-disk.js';
import { SeqLedger, inspectLedger } from '../../../src/buffer/seq-ledger.js';
import { decodeLedger, encodeSlot, FILE_SIZE, SLOT_SIZE } from '../../../src/buffer/ledger-format.js';

const DIR = '/data';
const FILE = `${DIR}/seq.ledger`;

/** After a crash: the ledger read back, and the highest seq promised (every seq below it may be out). */
function check(s: CrashState): { status: string; reserved?: number } {
  const r = inspectLedger(FILE, new CrashDisk(s.image));
  const promised = s.acked.length ? Math.max(...(s.acked as number[])) : undefined;
  const where = s.how;
  expect(r.status, where).not.toBe('damaged');
  if (promised !== undefined) {
    expect(r.status, where).toBe('ok');
    if (r.status === 'ok') expect(r.state.reserved, where).toBeGreaterThanOrEqual(promised);
  }
  return r.status === 'ok' ? { status: r.status, reserved: r.state.reserved } : { status: r.status };
}

/** A gateway's life: open, reserve a few blocks, a disk-full loss, clean close; then a restart. */
function life(disk: CrashDisk): void {
  const l = new SeqLedger(DIR, 100, 'boot-a', disk);
  l.open();
  disk.mark(1); // open() wrote the file: from here on it must read back
  for (const upTo of [1, 101, 150, 260, 900]) {
    l.reserve(upTo, 1, 50);
    disk.mark(upTo);
  }
  l.addPending({ first_seq: 900, last_seq: 905, reason: 'disk_full' });
  disk.mark(906);
  l.clearPending();
  l.close(950, 940);
  disk.mark(950);
  const again = new SeqLedger(DIR, 100, 'boot-a', disk);
  expect(again.found).toMatchObject({ reserved: 950, clean: true });
  again.open();
  again.reserve(960, 950);
  disk.mark(960);
  again.reserve(1100, 950);
  disk.mark(1100);
}

describe('seq.ledger under power cuts', () => {
  it('a fresh ledger: every crash state reads back at or above every promised seq', () => {
    const disk = new CrashDisk();
    life(disk);
    const states = crashStates(disk);
    // Distinct states only: a tear past a short record's first sector often changes nothing.
    expect(states.length).toBeGreaterThan(30);
    expect(states.filter((s) => s.how.includes('torn')).length).toBeGreaterThan(10);
    const seen = new Set(states.map((s) => check(s).status));
    expect(seen).toEqual(new Set(['none', 'ok'])); // "none" only before the first record was promised
  });

  it('upgrading a format 1 file is atomic: the old ceiling holds until the new file is in place', () => {
    const v1 = Buffer.alloc(4096, 0x20);
    v1.write(JSON.stringify({ v: 1, reserved: 5000, floor: 4000, clean: false, boot: 'boot-a', pending: [{ first_seq: 10, last_seq: 12, reason: 'disk_full' }] }));
    v1[4095] = 0x0a;
    const disk = new CrashDisk(imageOf({ [FILE]: v1 }));
    const l = new SeqLedger(DIR, 100, 'boot-b', disk);
    expect(l.found).toMatchObject({ reserved: 5000, pending: [{ first_seq: 10 }] });
    disk.mark(5000); // already promised by the old file
    l.open();
    l.reserve(5000, 4000);
    l.reserve(5200, 4000);
    disk.mark(5200);
    const states = crashStates(disk);
    expect(states.length).toBeGreaterThan(20);
    for (const s of states) expect(check(s).reserved).toBeGreaterThanOrEqual(5000);
    expect(disk.file(FILE)!.length).toBe(FILE_SIZE);
  });

  it('the model is not blind: the old single-block writer leaves unreadable files, a write without fsync forgets', () => {
    // The format 1 writer: one 4096-byte JSON block rewritten in place.
    const block = (reserved: number, pending: unknown[]) => {
      const b = Buffer.alloc(4096, 0x20);
      b.write(JSON.stringify({ v: 1, reserved, floor: 1, clean: false, pending }));
      return b;
    };
    const disk = new CrashDisk(imageOf({ [FILE]: block(100, []) }));
    const fd = disk.openRw(FILE);
    disk.pwrite(fd, block(2000, [{ first_seq: 1, last_seq: 2, reason: 'disk_full' }, { first_seq: 5, last_seq: 9, reason: 'x'.repeat(600) }]), 0);
    disk.fdatasync(fd);
    disk.mark(2000);
    const statuses = crashStates(disk).map((s) => decodeLedger(s.image.inodes.get(s.image.names.get(FILE)!)).status);
    expect(statuses).toContain('damaged');
    // An unsynced write to the ledger is no promise: the model drops it.
    const loose = new CrashDisk(imageOf({ [FILE]: block(100, []) }));
    loose.pwrite(loose.openRw(FILE), block(3000, []), 0);
    loose.mark(3000);
    expect(crashStates(loose).some((s) => s.acked.length === 1 && decodeLedger(s.image.inodes.get(1)).status === 'ok' && (decodeLedger(s.image.inodes.get(1)) as { state: { reserved: number } }).state.reserved === 100)).toBe(true);
  });
});

describe('seq.ledger format 2', () => {
  const state = { reserved: 42, floor: 7, clean: false, pending: [] };
  it('the newer valid slot wins; a damaged slot falls back to the other; both damaged is "damaged", never "none"', () => {
    const file = Buffer.alloc(FILE_SIZE, 0);
    encodeSlot({ ...state, reserved: 100 }, 7, 'b').copy(file, 0);
    encodeSlot({ ...state, reserved: 200 }, 8, 'b').copy(file, SLOT_SIZE);
    expect(decodeLedger(file)).toMatchObject({ status: 'ok', format: 2, gen: 8, slot: 1, state: { reserved: 200 } });
    file.writeUInt8(file.readUInt8(SLOT_SIZE + 60) ^ 0xff, SLOT_SIZE + 60); // a byte off in B's payload
    expect(decodeLedger(file)).toMatchObject({ status: 'ok', gen: 7, slot: 0, state: { reserved: 100 } });
    file.writeUInt8(file.readUInt8(30) ^ 0x01, 30); // and a bit of A's checksum
    expect(decodeLedger(file).status).toBe('damaged');
    expect(decodeLedger(Buffer.alloc(FILE_SIZE, 0)).status).toBe('damaged');
    expect(decodeLedger(undefined).status).toBe('none');
    expect(decodeLedger(Buffer.alloc(0)).status).toBe('none'); // format 1's create-then-crash
  });
  it('a read error (a bad block: EIO) is damage, not absence', () => {
    const disk = new CrashDisk();
    disk.readFile = () => {
      throw Object.assign(new Error('EIO'), { code: 'EIO' });
    };
    expect(inspectLedger(FILE, disk)).toEqual({ status: 'damaged', detail: 'cannot be read (EIO)' });
  });
  it('many long pending ranges are folded until the record fits a slot', () => {
    const disk = new CrashDisk();
    const l = new SeqLedger(DIR, 100, 'boot-a', disk);
    l.open();
    const big = 2 ** 52;
    for (let i = 0; i < 48; i++) l.addPending({ first_seq: big + i * 10, last_seq: big + i * 10 + 4, reason: 'disk_full_and_then_some' });
    const r = inspectLedger(FILE, disk);
    expect(r.status).toBe('ok');
    if (r.status === 'ok') {
      expect(r.state.pending.length).toBeLessThan(48);
      for (let i = 0; i < 48; i++) expect(r.state.pending.some((p) => p.first_seq <= big + i * 10 && p.last_seq >= big + i * 10 + 4)).toBe(true);
    }
  });
});

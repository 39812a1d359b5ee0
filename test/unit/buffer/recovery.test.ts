/** Where seq restarts after an open, the WAL check, and the seq ledger. */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decideStart, type StartInput } from '../../../src/buffer/startup.js';
import { checkWal } from '../../../src/buffer/wal-check.js';
import { MAX_AHEAD, SeqLedger, readLedger } from '../../../src/buffer/seq-ledger.js';
import { SqliteBuffer, type SqliteBufferOptions } from '../../../src/buffer/sqlite-buffer.js';
import { FakeClock } from '../../../src/core/fake-clock.js';
import { tempDir } from '../../helpers/gateway-config.js';

const base: StartInput = {
  dbNext: 500,
  ledger: { reserved: 1500, floor: 200, clean: false, pending: [] },
  dbExisted: true,
  replaced: false,
  walDamaged: false,
  sameBoot: true,
  synchronous: 'full',
};

describe('decideStart', () => {
  it('trusts an intact database after a crash (no gap, no announcement)', () => {
    expect(decideStart(base)).toEqual({ nextSeq: 500 });
    expect(decideStart({ ...base, synchronous: 'normal' })).toEqual({ nextSeq: 500 }); // same boot: page cache had it
  });
  it('after a reboot with synchronous=normal the last commits may be gone: jump and announce', () => {
    expect(decideStart({ ...base, synchronous: 'normal', sameBoot: false })).toEqual({ nextSeq: 1500, lost: { reason: 'unclean_shutdown', first_seq: 500, last_seq: 1499 } });
  });
  it('a damaged WAL, a missing, replaced or older database: seq goes above the ledger, the range is announced', () => {
    expect(decideStart({ ...base, walDamaged: true }).lost).toEqual({ reason: 'database_damaged', first_seq: 500, last_seq: 1499 });
    expect(decideStart({ ...base, dbExisted: false, dbNext: 1 }).lost).toEqual({ reason: 'database_missing', first_seq: 200, last_seq: 1499 });
    expect(decideStart({ ...base, replaced: true, dbNext: 1 }).lost).toEqual({ reason: 'database_damaged', first_seq: 200, last_seq: 1499 });
    expect(decideStart({ ...base, ledger: { ...base.ledger!, clean: true } }).lost).toEqual({ reason: 'database_behind', first_seq: 500, last_seq: 1499 });
    for (const r of [{ ...base, walDamaged: true }, { ...base, dbExisted: false }]) expect(decideStart(r).nextSeq).toBe(1500);
  });
  it('a damaged ledger is never "no ledger": seq skips its window above the database, announced', () => {
    expect(decideStart({ ...base, ledger: undefined, ledgerDamagedWindow: 100_000 })).toEqual({
      nextSeq: 100_500,
      lost: { reason: 'ledger_damaged', first_seq: 500, last_seq: 100_499 },
    });
  });
  it('no ledger, or a database ahead of it: the database decides', () => {
    expect(decideStart({ ...base, ledger: undefined })).toEqual({ nextSeq: 500 });
    expect(decideStart({ ...base, dbNext: 2000 })).toEqual({ nextSeq: 2000 });
  });
});

describe('checkWal', () => {
  function crashedWal(): Buffer {
    const dir = tempDir();
    const script = `const D=require('better-sqlite3');const db=new D(${JSON.stringify(join(dir, 'w.db'))});db.pragma('journal_mode=WAL');db.pragma('wal_autocheckpoint=0');db.exec('create table t(x)');for(let i=0;i<20;i++)db.prepare('insert into t values (?)').run('x'.repeat(3000)+i);process.kill(process.pid,'SIGKILL')`;
    spawnSync(process.execPath, ['-e', script], { cwd: process.cwd() });
    return readFileSync(join(dir, 'w.db-wal'));
  }
  it('intact after a crash, also with a torn last frame; damaged when frames follow a bad one or the header is hit', () => {
    const wal = crashedWal();
    expect(checkWal(wal)).toBe('intact');
    expect(checkWal(wal.subarray(0, wal.length - 700))).toBe('intact');
    const mid = Buffer.from(wal);
    mid.fill(0x5a, 32 + 24 + 100, 32 + 24 + 200);
    expect(checkWal(mid)).toBe('damaged');
    const head = Buffer.from(wal);
    head.fill(0, 0, 32);
    expect(checkWal(head)).toBe('damaged');
    expect(checkWal(Buffer.alloc(0))).toBe('none');
  });
  it('never throws on arbitrary bytes', () => {
    for (let i = 0; i < 200; i++) {
      const junk = Buffer.alloc(Math.floor(Math.random() * 9000));
      for (let k = 0; k < junk.length; k++) junk[k] = Math.floor(Math.random() * 256);
      if (i % 2 && junk.length >= 4) junk.writeUInt32BE(0x377f0682, 0);
      expect(['none', 'intact', 'damaged']).toContain(checkWal(junk));
    }
  });
});

describe('SqliteBuffer over a damaged seq.ledger', () => {
  it('both copies torn: starts above the window, counts and announces the skipped range', () => {
    const dir = tempDir();
    const opts: SqliteBufferOptions = { dataDir: dir, maxBytes: 1 << 30, maxAgeMs: 86_400_000, onFull: 'drop_oldest', synchronous: 'full', maxReadingsPerRow: 100, clock: new FakeClock(), seqBlock: 100 };
    const b = new SqliteBuffer(opts);
    b.commit(Array.from({ length: 10 }, (_, i) => ({ device: 'a', point: 'p', value: i, ts: 1000 + i, quality: 'good' as const })));
    b.close();
    const file = join(dir, 'seq.ledger');
    const bytes = readFileSync(file);
    bytes.fill(0x5a, 100, 700); // A: a damaged page
    bytes.fill(0x00, 4096 + 100, 4096 + 512); // B: its first sector half zeros (a torn write)
    writeFileSync(file, bytes);
    const again = new SqliteBuffer(opts);
    expect(again.stats().nextSeq).toBe(11 + MAX_AHEAD);
    expect(again.commit([{ device: 'a', point: 'p', value: 1, ts: 2000, quality: 'good' }])).toMatchObject({ firstSeq: 11 + MAX_AHEAD });
    const lost = again.readEvents(100).map((e) => JSON.parse(e.payload) as Record<string, unknown>).filter((e) => e.type === 'buffer_lost');
    expect(lost).toEqual([expect.objectContaining({ reason: 'ledger_damaged', first_seq: 11, last_seq: 10 + MAX_AHEAD, count: MAX_AHEAD })]);
    expect(String(lost[0]!.detail)).toMatch(/seq.ledger neither copy .* is a whole record/);
    again.close();
    // The ledger is whole again: the next start skips nothing.
    const third = new SqliteBuffer(opts);
    expect(third.stats().nextSeq).toBe(12 + MAX_AHEAD);
    third.close();
  });
});

describe('SeqLedger', () => {
  it('reserves ahead in place, keeps pending loss ranges, and records a clean close', () => {
    const dir = tempDir();
    const l = new SeqLedger(dir, 100, 'boot-a');
    l.open();
    l.reserve(50, 1);
    expect(l.state.reserved).toBe(150);
    l.reserve(120, 1); // covered: no write
    expect(l.state.reserved).toBe(150);
    l.addPending({ first_seq: 10, last_seq: 19, reason: 'disk_full' });
    l.addPending({ first_seq: 20, last_seq: 29, reason: 'disk_full' }); // merged
    const onDisk = readLedger(join(dir, 'seq.ledger'));
    expect(onDisk).toMatchObject({ reserved: 150, clean: false, boot: 'boot-a', pending: [{ first_seq: 10, last_seq: 29 }] });
    expect(readFileSync(join(dir, "seq.ledger")).length).toBe(8192); // fixed size (two 4 KiB copies): rewritten in place
    l.close(130, 100);
    expect(readLedger(join(dir, 'seq.ledger'))).toMatchObject({ reserved: 130, clean: true });
  });
  it('folds pending ranges rather than forget one', () => {
    const l = new SeqLedger(tempDir());
    l.open();
    for (let i = 0; i < 100; i++) l.addPending({ first_seq: i * 10, last_seq: i * 10 + 4, reason: 'disk_full' });
    const p = l.state.pending;
    expect(p.length).toBeLessThanOrEqual(48);
    for (let i = 0; i < 100; i++) expect(p.some((r) => r.first_seq <= i * 10 && r.last_seq >= i * 10 + 4)).toBe(true);
  });
});

import { describe, expect, it } from 'vitest';
import { GroupCommitter } from '../../../src/buffer/group-commit.js';
import { FakeClock } from '../../../src/core/fake-clock.js';
import type { DurableBuffer, CommitResult } from '../../../src/buffer/buffer.js';
import type { Reading } from '../../../src/core/reading.js';

const r = (i: number): Reading => ({ device: 'd', point: 'p', value: i, ts: i, quality: 'good' });

function fakeBuffer() {
  const commits: number[][] = [];
  const skipped: number[] = [];
  const rejected: number[] = [];
  let failing: Error | undefined;
  let seq = 1;
  const buffer = {
    commit(readings: readonly Reading[]): CommitResult {
      if (failing) throw failing;
      commits.push(readings.map((x) => x.value as number));
      seq += readings.length;
      return { accepted: readings.length, rejected: 0, dropped: 0 };
    },
    skip(count: number) {
      skipped.push(count);
      const firstSeq = seq;
      seq += count;
      return { firstSeq, lastSeq: seq - 1 };
    },
    reject(count: number) {
      rejected.push(count);
    },
  } as unknown as DurableBuffer;
  return { buffer, commits, skipped, rejected, fail: (e?: Error) => (failing = e) };
}

describe('GroupCommitter', () => {
  it('commits once per interval, not per reading', () => {
    const clock = new FakeClock();
    const { buffer, commits } = fakeBuffer();
    const gc = new GroupCommitter(buffer, { intervalMs: 100, max: 1000, clock });
    for (let i = 0; i < 5; i++) gc.add(r(i));
    expect(commits).toEqual([]);
    clock.advance(99);
    expect(commits).toEqual([]);
    clock.advance(1);
    expect(commits).toEqual([[0, 1, 2, 3, 4]]);
  });

  it('commits early when max readings wait', () => {
    const clock = new FakeClock();
    const { buffer, commits } = fakeBuffer();
    const gc = new GroupCommitter(buffer, { intervalMs: 100, max: 3, clock });
    for (let i = 0; i < 7; i++) gc.add(r(i));
    expect(commits).toEqual([
      [0, 1, 2],
      [3, 4, 5],
    ]);
    expect(gc.waiting).toBe(1);
  });

  it('keeps readings when the disk fails, retries, bounds memory by dropping the oldest with seqs (announced)', () => {
    const clock = new FakeClock();
    const { buffer, commits, skipped, fail } = fakeBuffer();
    const errors: number[] = [];
    let recovered = 0;
    const gc = new GroupCommitter(buffer, { intervalMs: 100, max: 2, maxPending: 5, clock, onError: (_e, n) => errors.push(n), onRecover: () => recovered++ });
    fail(Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }));
    for (let i = 0; i < 8; i++) gc.add(r(i));
    expect(gc.waiting).toBe(5);
    expect(gc.lostToFailure).toBe(3);
    expect(skipped).toEqual([1, 1, 1]); // the three oldest got seqs and a disk_full announcement
    expect(errors.length).toBeGreaterThan(0);
    fail(undefined);
    clock.advance(5000); // retries back off, up to 5 s
    expect(commits).toEqual([[3, 4, 5, 6, 7]]);
    expect(gc.waiting).toBe(0);
    expect(recovered).toBe(1);
  });

  it('retries a failing disk with backoff, not every interval', () => {
    const clock = new FakeClock();
    const { buffer, fail } = fakeBuffer();
    const errors: number[] = [];
    const gc = new GroupCommitter(buffer, { intervalMs: 100, max: 1000, clock, onError: (_e, n) => errors.push(n) });
    fail(Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR_WRITE' }));
    gc.add(r(1));
    clock.advance(60_000);
    // 100, 200, 400 … capped at 5 s: about 15 tries a minute, not 600
    expect(errors.length).toBeGreaterThan(5);
    expect(errors.length).toBeLessThan(20);
  });

  it('reject_newest: refuses new readings while the disk fails (counted, announced, no seq)', () => {
    const clock = new FakeClock();
    const { buffer, rejected, skipped, fail } = fakeBuffer();
    const gc = new GroupCommitter(buffer, { intervalMs: 100, max: 2, maxPending: 3, onFull: 'reject_newest', clock });
    fail(new Error('full'));
    for (let i = 0; i < 6; i++) gc.add(r(i));
    expect(gc.waiting).toBe(3);
    expect(rejected).toEqual([1, 1, 1]);
    expect(skipped).toEqual([]);
  });

  it('abandon() on stop gives what the disk would not take seqs and an announcement', () => {
    const clock = new FakeClock();
    const { buffer, skipped, fail } = fakeBuffer();
    const gc = new GroupCommitter(buffer, { intervalMs: 100, max: 10, clock });
    fail(new Error('full'));
    for (let i = 0; i < 4; i++) gc.add(r(i));
    gc.flush();
    expect(gc.abandon()).toBe(4);
    expect(skipped).toEqual([4]);
    expect(gc.waiting).toBe(0);
  });
});

describe('GroupCommitter listeners', () => {
  it('a throwing onCommit never makes readings commit twice', () => {
    const clock = new FakeClock();
    const { buffer, commits } = fakeBuffer();
    const gc = new GroupCommitter(buffer, {
      intervalMs: 100,
      max: 1000,
      clock,
      onCommit: () => {
        throw new Error('listener bug');
      },
    });
    gc.add(r(1));
    expect(() => gc.flush()).toThrow('listener bug');
    clock.advance(1000);
    expect(commits).toEqual([[1]]);
    expect(gc.waiting).toBe(0);
  });
});

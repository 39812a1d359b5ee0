import { describe, expect, it } from 'vitest';
import { GroupCommitter } from '../../../src/buffer/group-commit.js';
import { FakeClock } from '../../../src/core/fake-clock.js';
import type { DurableBuffer, CommitResult } from '../../../src/buffer/buffer.js';
import type { Reading } from '../../../src/core/reading.js';

const r = (i: number): Reading => ({ device: 'd', point: 'p', value: i, ts: i, quality: 'good' });

function fakeBuffer() {
  const commits: number[][] = [];
  let failing: Error | undefined;
  const buffer = {
    commit(readings: readonly Reading[]): CommitResult {
      if (failing) throw failing;
      commits.push(readings.map((x) => x.value as number));
      return { accepted: readings.length, rejected: 0, dropped: 0 };
    },
  } as unknown as DurableBuffer;
  return { buffer, commits, fail: (e?: Error) => (failing = e) };
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

  it('keeps readings when the disk fails, retries, and bounds memory', () => {
    const clock = new FakeClock();
    const { buffer, commits, fail } = fakeBuffer();
    const errors: number[] = [];
    const gc = new GroupCommitter(buffer, { intervalMs: 100, max: 2, maxPending: 5, clock, onError: (_e, n) => errors.push(n) });
    fail(Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }));
    for (let i = 0; i < 8; i++) gc.add(r(i));
    expect(gc.waiting).toBe(5);
    expect(gc.lostToFailure).toBe(3);
    expect(errors.length).toBeGreaterThan(0);
    fail(undefined);
    clock.advance(100);
    expect(commits).toEqual([[0, 1, 2, 3, 4]]);
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

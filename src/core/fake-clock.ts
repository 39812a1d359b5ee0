/**
 * A Clock whose time moves only when a test says so. Timers fire in order of due
 * time during `advance()`; timers scheduled by firing timers are honoured too.
 */
import type { Clock } from './clock.js';

interface Timer {
  due: number;
  order: number;
  fn: () => void;
}

export class FakeClock implements Clock {
  private t: number;
  private wall: number;
  private timers: Timer[] = [];
  private order = 0;
  private rnd: () => number;

  constructor(opts: { wall?: number; random?: () => number } = {}) {
    this.t = 0;
    this.wall = opts.wall ?? Date.UTC(2026, 0, 1);
    this.rnd = opts.random ?? (() => 0.5);
  }

  now(): number {
    return this.wall + this.t;
  }
  mono(): number {
    return this.t;
  }
  random(): number {
    return this.rnd();
  }
  setTimer(ms: number, fn: () => void): () => void {
    const timer: Timer = { due: this.t + Math.max(0, ms), order: this.order++, fn };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((x) => x !== timer);
    };
  }
  /** Number of timers waiting. */
  pending(): number {
    return this.timers.length;
  }
  /** Move time forward by `ms`, firing every timer that falls due, in order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      this.timers.sort((a, b) => a.due - b.due || a.order - b.order);
      const next = this.timers[0];
      if (!next || next.due > end) break;
      this.timers.shift();
      this.t = next.due;
      next.fn();
    }
    this.t = end;
  }
  /** Jump the wall clock (an NTP step) without moving monotonic time. */
  stepWall(ms: number): void {
    this.wall += ms;
  }
}

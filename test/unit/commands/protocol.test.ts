/** The pure pieces of downlink commands: request parsing and the bounded memories. */
import { describe, expect, it } from 'vitest';
import { MAX_REQUEST_BYTES, parseRequest } from '../../../src/commands/protocol.js';
import { RateLimiter, RecentRequests } from '../../../src/commands/limits.js';
import { FakeClock } from '../../../src/core/fake-clock.js';

const req = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));

describe('parseRequest', () => {
  it('takes {id, args}; correlation data stands in for a missing id', () => {
    expect(parseRequest(req({ id: 'a-1', args: { device: 'x' } }))).toEqual({ ok: true, request: { id: 'a-1', args: { device: 'x' } } });
    expect(parseRequest(req({}), Buffer.from('corr-7'))).toEqual({ ok: true, request: { id: 'corr-7', args: {} } });
    expect(parseRequest(req({}), Buffer.from([0, 1, 255]))).toMatchObject({ ok: true, request: { id: '0001ff' } });
    expect(parseRequest(Buffer.alloc(0), Buffer.from('c'))).toMatchObject({ ok: true, request: { id: 'c' } });
  });

  it('refuses bad payloads with a reason, never throws', () => {
    const bad: [unknown, RegExp][] = [
      ['{', /not JSON/],
      ['[1]', /must be a JSON object/],
      ['null', /must be a JSON object/],
      [{ args: {} }, /request id missing/],
      [{ id: 'has space' }, /request id missing or invalid/],
      [{ id: 7 }, /request id missing or invalid/],
      [{ id: 'x'.repeat(129) }, /invalid/],
      [{ id: 'a', args: 'x' }, /"args" must be a JSON object/],
      [{ id: 'a', device: 'x' }, /unknown keys device — put arguments under "args"/],
      ['x'.repeat(MAX_REQUEST_BYTES + 1), /request too large/],
    ];
    for (const [payload, msg] of bad) {
      const r = parseRequest(req(payload));
      expect(r.ok, String(payload).slice(0, 40)).toBe(false);
      if (!r.ok) expect(r.error).toMatch(msg);
    }
  });
});

describe('RateLimiter', () => {
  it('allows max per sliding window and says when the next slot frees', () => {
    const clock = new FakeClock();
    const rl = new RateLimiter(2, 1000, clock);
    expect(rl.take().ok).toBe(true);
    clock.advance(400);
    expect(rl.take().ok).toBe(true);
    expect(rl.take()).toEqual({ ok: false, retryInMs: 600 });
    clock.advance(600);
    expect(rl.take().ok).toBe(true);
    expect(rl.take().ok).toBe(false);
  });
});

describe('RecentRequests', () => {
  it('remembers the last N ids, least recently set forgotten first', () => {
    const r = new RecentRequests<number>(2);
    r.set('a', 1);
    r.set('b', 2);
    r.set('c', 3);
    expect([r.get('a'), r.get('b'), r.get('c')]).toEqual([undefined, 2, 3]);
  });
});

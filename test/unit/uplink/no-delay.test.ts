import { describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { noDelay } from '../../../src/uplink/no-delay.js';

describe('noDelay', () => {
  it('turns Nagle off on a socket', () => {
    const calls: unknown[] = [];
    noDelay({ setNoDelay: (v?: boolean) => calls.push(v) });
    expect(calls).toEqual([true]);
  });
  it('leaves a stream without socket options alone (WebSocket)', () => {
    expect(() => noDelay(new PassThrough())).not.toThrow();
    expect(() => noDelay(undefined)).not.toThrow();
  });
});

/**
 * Failed status-page logins are slowed down per source: five free guesses, then a lockout
 * that doubles with each further guess; a locked source gets 429 and its credentials are not
 * checked; a request without credentials is not a guess; memory stays bounded.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { LoginThrottle, sourceKey } from '../../../src/health/login-throttle.js';
import { StatusServer } from '../../../src/health/http.js';
import { silentLogger } from '../../../src/core/log.js';
import type { HealthPayload } from '../../../src/uplink/topics.js';
import { freePort } from '../../helpers/net.js';

describe('LoginThrottle', () => {
  it('locks a source after five failures, doubling, and a success clears it', () => {
    let t = 0;
    const th = new LoginThrottle({ now: () => t });
    for (let i = 0; i < 5; i++) expect(th.failed('10.0.0.9')).toBe(false);
    expect(th.check('10.0.0.9')).toEqual({ allowed: true });
    expect(th.failed('10.0.0.9')).toBe(true);
    expect(th.check('10.0.0.9')).toEqual({ allowed: false, retryAfterS: 1 });
    expect(th.check('10.0.0.8')).toEqual({ allowed: true });
    t += 1000;
    expect(th.failed('10.0.0.9')).toBe(true);
    expect(th.check('10.0.0.9')).toEqual({ allowed: false, retryAfterS: 2 });
    t += 2000;
    th.failed('10.0.0.9');
    expect(th.check('10.0.0.9')).toEqual({ allowed: false, retryAfterS: 4 });
    expect(th.refused).toBe(3);
    t += 4000;
    th.succeeded('10.0.0.9');
    for (let i = 0; i < 5; i++) th.failed('10.0.0.9');
    expect(th.check('10.0.0.9')).toEqual({ allowed: true });
  });

  it('caps the lockout and forgets quiet sources', () => {
    let t = 0;
    const th = new LoginThrottle({ now: () => t, maxLockMs: 60_000, forgetMs: 3_600_000 });
    for (let i = 0; i < 40; i++) {
      th.failed('10.0.0.9');
      t += 120_000;
    }
    th.failed('10.0.0.9');
    expect(th.check('10.0.0.9')).toEqual({ allowed: false, retryAfterS: 60 });
    t += 3_600_001 + 60_000;
    expect(th.failed('10.0.0.9')).toBe(false);
  });

  it('remembers at most maxSources, least recently seen out first', () => {
    const th = new LoginThrottle({ maxSources: 100 });
    for (let i = 0; i < 1000; i++) th.failed(`10.1.${i >> 8}.${i & 255}`);
    expect(th.size).toBe(100);
  });

  it('groups IPv6 by /64 and v4-mapped addresses by their v4 form', () => {
    expect(sourceKey('2001:db8:0:1::5')).toBe('2001:db8:0:1::/64');
    expect(sourceKey('2001:db8:0:1:aaaa:bbbb:cccc:dddd')).toBe('2001:db8:0:1::/64');
    expect(sourceKey('::1')).toBe('0:0:0:0::/64');
    expect(sourceKey('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(sourceKey('192.0.2.7')).toBe('192.0.2.7');
    expect(sourceKey(undefined)).toBe('?');
  });
});

describe('status server with a throttle', () => {
  const health = { gateway: 'gw-a', ts: 1, version: 't', uptime_s: 1, uplink: { state: 'online' }, buffer: {}, devices: {}, buses: {}, system: {} } as unknown as HealthPayload;
  const servers: StatusServer[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.stop();
  });

  it('answers 429 with Retry-After once a source guessed too often, and lets it in again later', async () => {
    let t = 0;
    const port = await freePort();
    const token = 'a-long-enough-token-123';
    const s = new StatusServer(`127.0.0.1:${port}`, () => health, silentLogger(), { auth: { token }, throttle: new LoginThrottle({ now: () => t }) });
    servers.push(s);
    await s.start();
    const url = `http://127.0.0.1:${port}`;
    const wrong = { authorization: 'Bearer wrong-token-of-length' };
    // No credentials at all: the browser's first visit, never a guess.
    for (let i = 0; i < 10; i++) expect((await fetch(`${url}/health`)).status).toBe(401);
    for (let i = 0; i < 6; i++) expect((await fetch(`${url}/health`, { headers: wrong })).status).toBe(401);
    const locked = await fetch(`${url}/health`, { headers: { authorization: `Bearer ${token}` } });
    expect(locked.status).toBe(429);
    expect(locked.headers.get('retry-after')).toBe('1');
    expect((await fetch(`${url}/health?token=${token}`)).status).toBe(429);
    t += 1000;
    expect((await fetch(`${url}/health`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    // The success cleared the record: five free guesses again.
    for (let i = 0; i < 5; i++) expect((await fetch(`${url}/health`, { headers: wrong })).status).toBe(401);
    expect((await fetch(`${url}/health`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
  });
});

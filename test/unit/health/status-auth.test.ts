/**
 * Who may read the status server: anyone on loopback without health.auth; with it, only
 * the token (header or ?token=) or the basic-auth user; beyond loopback without it, the
 * server does not start. /live is a server-sent event stream whose first event is the view.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { StatusServer } from '../../../src/health/http.js';
import type { HttpAuth } from '../../../src/health/http-auth.js';
import { silentLogger } from '../../../src/core/log.js';
import type { HealthPayload } from '../../../src/uplink/topics.js';
import { configSchema } from '../../../src/config/schema.js';
import { freePort } from '../../helpers/net.js';

const health = { gateway: 'gw-a', ts: 1, version: 't', uptime_s: 1, uplink: { state: 'online' }, buffer: {}, devices: {}, buses: {}, system: {} } as unknown as HealthPayload;
const servers: StatusServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
});

async function serve(auth?: HttpAuth): Promise<string> {
  const port = await freePort();
  const s = new StatusServer(`127.0.0.1:${port}`, () => health, silentLogger(), auth ? { auth } : {});
  servers.push(s);
  await s.start();
  return `http://127.0.0.1:${port}`;
}

const basic = (u: string, p: string) => ({ authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` });

describe('status server access', () => {
  it('refuses to listen beyond loopback without health.auth', async () => {
    const s = new StatusServer('0.0.0.0:0', () => health, silentLogger());
    await expect(s.start()).rejects.toThrow(/beyond loopback, and health.auth is not set/);
  });

  it('with a token: header or query, nothing else', async () => {
    const token = 'a-long-enough-token-123';
    const url = await serve({ token });
    expect((await fetch(`${url}/`)).status).toBe(401);
    expect((await fetch(`${url}/health`, { headers: { authorization: 'Bearer wrong-token-of-length' } })).status).toBe(401);
    expect((await fetch(`${url}/metrics?token=nope`)).status).toBe(401);
    expect((await fetch(`${url}/health`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    const page = await fetch(`${url}/?token=${token}`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('citygate <span id="gw">gw-a</span>');

    const live = await fetch(`${url}/live?token=${token}`);
    expect(live.headers.get('content-type')).toBe('text/event-stream');
    const reader = live.body!.getReader();
    let text = '';
    for (let i = 0; i < 10 && !text.includes('\n\n', text.indexOf('event: view')); i++) text += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    const data = /event: view\ndata: (.*)\n\n/.exec(text)?.[1];
    expect(JSON.parse(data ?? 'null')).toMatchObject({ health: { gateway: 'gw-a' }, points: [], events: [] });
  });

  it('with basic auth: the browser is asked, and only the right pair gets in', async () => {
    const url = await serve({ username: 'tech', password: 'ladder-42!' });
    const none = await fetch(`${url}/`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Basic realm="citygate"/);
    expect((await fetch(`${url}/`, { headers: basic('tech', 'wrong-pass') })).status).toBe(401);
    expect((await fetch(`${url}/`, { headers: basic('other', 'ladder-42!') })).status).toBe(401);
    expect((await fetch(`${url}/health`, { headers: basic('tech', 'ladder-42!') })).status).toBe(200);
  });

  it('health.auth is checked in the config', () => {
    const base = { gateway: { id: 'g' }, uplink: { url: 'mqtt://127.0.0.1:1883' } };
    const issues = (auth: unknown) => {
      const r = configSchema.safeParse({ ...base, health: { http: '0.0.0.0:8787', auth } });
      return r.success ? [] : r.error.issues.map((i) => i.message);
    };
    expect(issues({ token: 'short' })).toEqual(['a status page token needs at least 16 characters']);
    expect(issues({ username: 'tech' })).toContain('username and password go together');
    expect(issues({})).toContain('give a token, or a username and password');
    expect(issues({ token: 'x'.repeat(16) })).toEqual([]);
    // No auth beyond loopback: validate says the page would not start, and what to add.
    expect(issues(undefined)).toEqual([expect.stringMatching(/^0\.0\.0\.0:8787 is beyond loopback and health\.auth is not set: the status page .* would not start — add health\.auth/)]);
  });
});

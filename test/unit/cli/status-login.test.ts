/**
 * `citygate status` against a real status server (src/health/http.ts) behind
 * health.auth: without a login it says that a login is needed and how to give one
 * (not "no gateway answering"); a token from the environment or a file, a basic-auth
 * user with its password from the environment, or the config's own health.auth get
 * the table; a wrong login is named as such, and a source locked out after too many wrong
 * ones is told how long to wait. The secret is in no output.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { StatusServer } from '../../../src/health/http.js';
import { LoginThrottle } from '../../../src/health/login-throttle.js';
import type { HealthPayload } from '../../../src/uplink/topics.js';
import { STACK, runCli } from '../../helpers/cli.js';
import { tempDir } from '../../helpers/gateway-config.js';
import { freePort } from '../../helpers/net.js';

const TOKEN = 'status-token-0123456789abcdef';
const PASSWORD = 'basic-pass-98765';

const health = {
  gateway: 'login-gw', ts: Date.now(), version: '0.1.0', uptime_s: 42,
  uplink: { state: 'online', reconnects: 0, published: 10, acked_readings: 100 },
  buffer: { readings: 0, rows: 0, bytes: 0, file_bytes: 4096, oldest_age_s: null, next_seq: 101, dropped: 0, rejected: 0, pending_events: 0 },
  devices: {},
  system: { cpu_temp_c: null, load_1m: 0.1, disk_free_bytes: 1e9 },
} as unknown as HealthPayload;

const servers: StatusServer[] = [];
let tokenUrl = '';
let basicUrl = '';
let tokenPort = 0;
const dir = tempDir('cg-status-login-');

beforeAll(async () => {
  const log = pino({ level: 'silent' });
  tokenPort = await freePort();
  const basicPort = await freePort();
  const a = new StatusServer(`127.0.0.1:${tokenPort}`, () => health, log, { auth: { token: TOKEN } });
  const b = new StatusServer(`127.0.0.1:${basicPort}`, () => health, log, { auth: { username: 'tech', password: PASSWORD } });
  await a.start();
  await b.start();
  servers.push(a, b);
  tokenUrl = `http://127.0.0.1:${tokenPort}`;
  basicUrl = `http://127.0.0.1:${basicPort}`;
});
afterAll(async () => {
  for (const s of servers) await s.stop();
});

const clean = { CITYGATE_STATUS_TOKEN: '', CITYGATE_STATUS_PASSWORD: '' };
const noSecret = (r: { stdout: string; stderr: string }): void => {
  expect(r.stdout + r.stderr).not.toContain(TOKEN);
  expect(r.stdout + r.stderr).not.toContain(PASSWORD);
  expect(r.stderr).not.toMatch(STACK);
};

describe('citygate status with a login', () => {
  it('without one: says a login is needed and how to give it (exit 1), not "no gateway answering"', async () => {
    const r = await runCli(['status', '--url', tokenUrl], { env: clean });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`the status page at ${tokenUrl} needs a login (health.auth, HTTP 401)`);
    expect(r.stderr).toContain('CITYGATE_STATUS_TOKEN');
    expect(r.stderr).not.toContain('no gateway answering');
    noSecret(r);
  }, 60_000);

  it('a token from CITYGATE_STATUS_TOKEN or --token-file reads the page', async () => {
    const env = await runCli(['status', '--url', tokenUrl], { env: { ...clean, CITYGATE_STATUS_TOKEN: TOKEN } });
    expect(env.code).toBe(0);
    expect(env.stdout).toMatch(/^gateway login-gw {2}version 0\.1\.0/m);
    noSecret(env);
    const file = join(dir, 'token');
    writeFileSync(file, `${TOKEN}\n`, { mode: 0o600 });
    const viaFile = await runCli(['status', '--url', tokenUrl, '--token-file', file, '--json'], { env: clean });
    expect(viaFile.code).toBe(0);
    expect(JSON.parse(viaFile.stdout)).toMatchObject({ gateway: 'login-gw' });
  }, 60_000);

  it('a wrong token is named as a refused login, without echoing it', async () => {
    const r = await runCli(['status', '--url', tokenUrl], { env: { ...clean, CITYGATE_STATUS_TOKEN: 'wrong-token-wrong-token' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('refused the login (HTTP 401)');
    expect(r.stderr).not.toContain('wrong-token-wrong-token');
    noSecret(r);
  }, 60_000);

  it('basic auth: --user with the password from CITYGATE_STATUS_PASSWORD; without a password, a clear error', async () => {
    const ok = await runCli(['status', '--url', basicUrl, '--user', 'tech'], { env: { ...clean, CITYGATE_STATUS_PASSWORD: PASSWORD } });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^gateway login-gw/m);
    noSecret(ok);
    const none = await runCli(['status', '--url', basicUrl, '--user', 'tech'], { env: clean });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('--user tech: give the password in CITYGATE_STATUS_PASSWORD or --password-file FILE');
  }, 60_000);

  it("with the config readable, its own health.auth is used", async () => {
    const file = join(dir, 'gateway.yaml');
    writeFileSync(file, stringify({
      gateway: { id: 'login-gw', data_dir: dir },
      uplink: { url: 'mqtts://b.example:8883' },
      health: { http: `127.0.0.1:${tokenPort}`, auth: { token: '${STATUS_TOKEN}' } },
      devices: [{ id: 't', driver: 'sim', points: [{ name: 'a' }] }],
    }));
    const r = await runCli(['status', '--config', file], { env: { ...clean, STATUS_TOKEN: TOKEN } });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^gateway login-gw/m);
    noSecret(r);
  }, 60_000);

  it('locked out after too many wrong logins: says so and how long to wait (exit 1)', async () => {
    const port = await freePort();
    const locked = new StatusServer(`127.0.0.1:${port}`, () => health, pino({ level: 'silent' }), { auth: { token: TOKEN }, throttle: new LoginThrottle({ now: () => 0 }) });
    await locked.start();
    servers.push(locked);
    const url = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 6; i++) await (await fetch(`${url}/health`, { headers: { authorization: 'Bearer wrong-token-wrong-token' } })).body?.cancel();
    const r = await runCli(['status', '--url', url], { env: { ...clean, CITYGATE_STATUS_TOKEN: TOKEN } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`the status page at ${url} is refusing logins from here for 1 s after too many failed ones`);
    noSecret(r);
  }, 60_000);
});

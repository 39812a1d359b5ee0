/**
 * Secrets never leave: a gateway whose broker password comes from `${MQTT_PASSWORD}` and
 * whose status-page token comes from `!secret`, attacked through every way a value could
 * come back out — remote configs that put `${MQTT_PASSWORD}` or `!secret` in a point's
 * value or unit or in a bus host, a reload of such a file, a config that replaces the
 * credentials, a `get_config` request (no such command exists: a reader of the config
 * would be one), invalid configs whose errors could echo values. Every outgoing byte is
 * captured — every MQTT topic and payload the broker saw (data, health, status, events,
 * replies), the status page, /health and /metrics, every log line — and scanned for the
 * secret values, as text and base64. None is found.
 */
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedBroker } from '../../../src/demo/embedded-broker.js';
import { Gateway } from '../../../src/runtime/gateway.js';
import { loadConfigFile } from '../../../src/config/load.js';
import { createLogger } from '../../../src/core/log.js';
import { tempDir } from '../../helpers/gateway-config.js';
import { startWithOperator, until } from '../../helpers/commander.js';
import { freePort } from '../../helpers/net.js';

const MQTT_PASSWORD = 'mqtt-Pw-7f3a9c21e5';
const STATUS_TOKEN = 'status-Tok-4b8e2d6f1a0c9e7b';

const cleanup: (() => Promise<void> | void)[] = [];
const savedEnv = process.env.MQTT_PASSWORD;
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup.length = 0;
  if (savedEnv === undefined) delete process.env.MQTT_PASSWORD;
  else process.env.MQTT_PASSWORD = savedEnv;
});

const sim = (id: string, point: Record<string, unknown> = {}) => ({ id, driver: 'sim', poll: '50ms', points: [{ name: 't', wave: 'counter', ...point }] });
/** The YAML of `doc`, with `!secret` tags where the placeholders are. */
const yamlOf = (doc: unknown): string => stringify(doc).replace(/"?SECRET_REF:([a-z_]+)"?/g, '!secret $1');

describe('secrets never leave the gateway', () => {
  it('no outgoing byte holds them, whatever a remote config or a command tries', async () => {
    process.env.MQTT_PASSWORD = MQTT_PASSWORD;
    const captured: string[] = [];
    const broker = new EmbeddedBroker('127.0.0.1', 0, {
      authenticate: (_c, username, password, done) => done(null, username !== 'gw' || password?.toString() === MQTT_PASSWORD),
    });
    broker.onPublish((m) => captured.push(`mqtt ${m.topic} ${m.payload.toString('utf8')}`));
    await broker.start();
    cleanup.push(() => broker.stop());

    const dir = tempDir('cg-leaks-');
    writeFileSync(join(dir, 'secrets.yaml'), `status_token: ${STATUS_TOKEN}\n`);
    chmodSync(join(dir, 'secrets.yaml'), 0o600);
    const httpPort = await freePort();
    const file = join(dir, 'gateway.yaml');
    const doc = {
      gateway: { id: 'leak-gw', data_dir: join(dir, 'data') },
      uplink: { url: broker.url, protocol_version: 4, username: 'gw', password: '${MQTT_PASSWORD}', reconnect: { min: '100ms', max: '1s' }, batch: { max_delay: '50ms' } },
      buffer: { commit_interval: '20ms' },
      health: { interval: '500ms', http: `127.0.0.1:${httpPort}`, auth: { token: 'SECRET_REF:status_token' } },
      commands: { allow: ['ping', 'health', 'config', 'reload_config'], config: { remote_may_change: ['devices', 'buses', 'health.interval', 'commands.allow'] } },
      devices: [sim('sim-a', { unit: 'degC' })],
    };
    writeFileSync(file, yamlOf(doc));

    const logs = new Writable({
      write(chunk: Buffer, _enc, done) {
        captured.push(`log ${chunk.toString('utf8')}`);
        done();
      },
    });
    const log = createLogger({ level: 'debug', pretty: false, destination: logs });
    const gw = new Gateway(loadConfigFile(file).config, { configFile: file, reloadGraceMs: 300, log });
    const op = await startWithOperator(gw, broker.url, 4, cleanup);
    const reply = async (name: string, id: string, args?: unknown): Promise<void> => {
      const r = await op.request(name, { id, ...(args ? { args } : {}) });
      captured.push(`reply ${JSON.stringify(r)}`);
    };

    // The attempts. Each is refused; none may echo a value.
    const attempts: [string, unknown][] = [
      ['unit', { ...doc, devices: [sim('sim-a', { unit: 'degC' }), sim('leak-1', { unit: '${MQTT_PASSWORD}' })] }],
      ['value', { ...doc, devices: [sim('sim-a', { unit: 'degC' }), { id: 'leak-2', driver: 'sim', points: [{ name: 'p', value: 'SECRET_REF:status_token' }] }] }],
      ['bus-host', { ...doc, buses: { plc: { type: 'modbus-tcp', host: '${MQTT_PASSWORD}' } } }],
      ['fallback', { ...doc, devices: [sim('sim-a', { unit: '${NOPE:-x}' })] }],
      ['credentials', { ...doc, uplink: { ...doc.uplink, password: 'attacker-chosen' }, health: { ...doc.health, auth: { token: 'attacker-chosen-token-123' } } }],
      ['policy', { ...doc, commands: { ...doc.commands, config: { remote_may_change: ['devices', 'buffer'] } } }],
      ['invalid', { ...doc, devices: [sim('sim-a', { unit: 'degC' }), { ...sim('bad'), poll: 'fast' }] }],
    ];
    for (const [name, attempt] of attempts) {
      const r = await op.request('config', { id: `attack-${name}`, args: { yaml: yamlOf(attempt) } });
      captured.push(`reply ${JSON.stringify(r)}`);
      expect(r, name).toMatchObject({ ok: false });
    }
    // A file on disk with the same trick, reloaded: refused by the policy of the file in force.
    writeFileSync(file, yamlOf({ ...doc, devices: [sim('sim-a', { unit: '${MQTT_PASSWORD}' })] }));
    await reply('reload_config', 'reload-leak');
    captured.push(`reply ${JSON.stringify(await gw.reloader!.reloadFromFile())}`);
    // No command reads the config back; asking for one is refused without a value.
    await reply('get_config', 'get-1');
    await reply('ping', 'ping-1');
    await reply('health', 'health-1');
    // An allowed change goes through, and its event and health are captured too.
    writeFileSync(file, yamlOf(doc));
    const good = yamlOf({ ...doc, devices: [sim('sim-a', { unit: 'degC' }), sim('sim-b')] });
    const applied = await op.request('config', { id: 'good-1', args: { yaml: good } });
    captured.push(`reply ${JSON.stringify(applied)}`);
    expect(applied).toMatchObject({ ok: true });
    await until(() => (gw.health().devices['sim-b']?.readings ?? 0) > 3, 10_000, 'sim-b readings');

    // The status page, /health, /metrics and /live (one chunk), with the token.
    const auth = { authorization: `Bearer ${STATUS_TOKEN}` };
    for (const path of ['/', '/health', '/metrics']) {
      const res = await fetch(`http://127.0.0.1:${httpPort}${path}`, { headers: auth });
      expect(res.status, path).toBe(200);
      captured.push(`http ${path} ${JSON.stringify([...res.headers])} ${await res.text()}`);
    }
    const denied = await fetch(`http://127.0.0.1:${httpPort}/health`);
    captured.push(`http denied ${denied.status} ${JSON.stringify([...denied.headers])} ${await denied.text()}`);
    await until(() => captured.some((c) => c.startsWith('mqtt citygate/leak-gw/data/sim-b')), 10_000, 'sim-b data on the broker');
    await until(() => captured.filter((c) => c.startsWith('mqtt citygate/leak-gw/health')).length >= 2, 10_000, 'health on the broker');

    // The capture is real: it holds data, health, events, replies, pages and logs …
    const all = captured.join('\n');
    for (const kind of ['mqtt citygate/leak-gw/data/sim-a', 'mqtt citygate/leak-gw/health', 'mqtt citygate/leak-gw/events', 'mqtt citygate/leak-gw/cmd/config/reply', 'http /metrics', 'log {']) {
      expect(all, kind).toContain(kind);
    }
    expect(all).toContain('may not be set remotely to a ${ENV} or !secret reference');
    expect(all).toMatch(/reply .*"get-1".*unknown command|reply .*"get-1".*not allowed/);
    // … and no secret in any form.
    for (const secret of [MQTT_PASSWORD, STATUS_TOKEN]) {
      for (const form of [secret, Buffer.from(secret).toString('base64'), encodeURIComponent(secret)]) {
        expect(all.includes(form), `${secret} leaked as ${form}`).toBe(false);
      }
    }
  });
});

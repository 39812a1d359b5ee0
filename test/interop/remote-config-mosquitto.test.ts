/**
 * The field attack on a real Mosquitto with the ACL of docs/operations.md: an operator
 * holding the `config` right sends a config that allows all eight commands and makes every
 * point writable, then one that publishes `${MQTT_PASSWORD}` in a point. Both are refused
 * with the keys named, nothing is written, `update` stays refused; an operator reading
 * everything under citygate/# never sees the password.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { Gateway } from '../../src/runtime/gateway.js';
import { loadConfigFile } from '../../src/config/load.js';
import { COMMAND_NAMES } from '../../src/commands/schema.js';
import { tempDir } from '../helpers/gateway-config.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { startWithOperator, until } from '../helpers/commander.js';
import { documentedAcl } from '../helpers/broker-acl.js';

const PASSWORD = 'gw-Pass-51c0ffee42';
const cleanup: (() => Promise<void> | void)[] = [];
const savedEnv = process.env.MQTT_PASSWORD;
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup.length = 0;
  if (savedEnv === undefined) delete process.env.MQTT_PASSWORD;
  else process.env.MQTT_PASSWORD = savedEnv;
});

const sim = (id: string, point: Record<string, unknown> = {}) => ({ id, driver: 'sim', poll: '100ms', points: [{ name: 't', wave: 'counter', ...point }] });

describe('a config right is not a root right (Mosquitto)', () => {
  it('refuses the widened and the leaking config; the password never reaches the broker', async () => {
    process.env.MQTT_PASSWORD = PASSWORD;
    const dir = tempDir('cg-rc-mosq-');
    writeFileSync(join(dir, 'acl'), documentedAcl());
    const broker = new Mosquitto({ users: { 'rc-gw': PASSWORD, operator: 'op-secret' }, extra: [`acl_file ${join(dir, 'acl')}`] });
    await broker.start();
    cleanup.push(() => broker.stop());
    const file = join(dir, 'gateway.yaml');
    const doc = {
      gateway: { id: 'rc-gw', data_dir: join(dir, 'data') },
      uplink: { url: broker.url, protocol_version: 4, username: 'rc-gw', password: '${MQTT_PASSWORD}', batch: { max_delay: '100ms' } },
      health: { interval: '1s', http: false },
      commands: { allow: ['ping', 'config'] },
      devices: [sim('sim-a')],
    };
    writeFileSync(file, stringify(doc));
    const original = readFileSync(file, 'utf8');
    const gw = new Gateway(loadConfigFile(file).config, { configFile: file, reloadGraceMs: 500 });
    const op = await startWithOperator(gw, broker.url, 4, cleanup, { username: 'operator', password: 'op-secret' });
    // Everything under the root, the operator's own requests included (3.1.1 replies are matched by topic).
    const seen: string[] = [];
    op.client.on('message', (t, p) => seen.push(`${t} ${p.toString('utf8')}`));
    await op.client.subscribeAsync('citygate/#', { qos: 1 });

    const widened = stringify({ ...doc, commands: { allow: [...COMMAND_NAMES], writes: { 'sim-a': '*' } } });
    const w = await op.request('config', { id: 'widen', args: { yaml: widened } });
    expect(w).toMatchObject({ ok: false, error: expect.stringMatching(/^refused: 2 changes a remote config may not make/) });
    expect(w.details).toContainEqual(expect.stringMatching(/^refused: commands\.allow may not be changed remotely \(commands\.config\.remote_may_change/));
    const leak = stringify({ ...doc, devices: [sim('sim-a', { unit: '${MQTT_PASSWORD}' })] });
    const l = await op.request('config', { id: 'leak', args: { yaml: leak } });
    expect(l).toMatchObject({ ok: false, error: expect.stringMatching(/^refused: devices\[0\]\.points\[0\]\.unit may not be set remotely to a \$\{ENV\} or !secret reference/) });
    expect(await op.request('update', { id: 'upd', args: { url: 'https://127.0.0.1:1/b.tar.gz', sha256: '0'.repeat(64) } })).toMatchObject({ ok: false, error: expect.stringMatching(/^command "update" is not allowed/) });
    expect(readFileSync(file, 'utf8')).toBe(original);

    await until(() => seen.some((s) => s.startsWith('citygate/rc-gw/data/sim-a')) && seen.some((s) => s.includes('"leak"')), 10_000, 'data and the replies on the broker');
    const all = seen.join('\n') + JSON.stringify(op.replies);
    expect(all.includes(PASSWORD)).toBe(false);
    expect(all.includes(Buffer.from(PASSWORD).toString('base64'))).toBe(false);
  });
});

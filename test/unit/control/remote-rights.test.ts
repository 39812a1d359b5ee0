/**
 * A remote config cannot widen its own rights: the `config` command and a reload of a
 * file the gateway's user can write are judged by `commands.config.remote_may_change`
 * of the config in force, key by key, before anything is validated, written or applied.
 * The attacker's config of the field test (every command allowed, every point writable)
 * is refused with the keys named, and `update` stays refused afterwards.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedBroker } from '../../../src/demo/embedded-broker.js';
import { Gateway } from '../../../src/runtime/gateway.js';
import { loadConfigFile } from '../../../src/config/load.js';
import { remoteChangeRefusals } from '../../../src/control/remote-policy.js';
import { COMMAND_NAMES } from '../../../src/commands/schema.js';
import { tempDir } from '../../helpers/gateway-config.js';
import { startWithOperator } from '../../helpers/commander.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup.length = 0;
});

const sim = (id: string, extra: Record<string, unknown> = {}) => ({ id, driver: 'sim', poll: '50ms', points: [{ name: 't', wave: 'counter', ...extra }] });
const DEFAULT_POLICY = ['devices', 'buses', 'health.interval'];

const base = `gateway: { id: gw-1 }
uplink:
  url: mqtts://broker.example:8883
  password: \${MQTT_PASSWORD}
commands:
  allow: [ping, config]
devices:
  - { id: a, driver: sim, points: [ { name: t } ] }
`;

describe('remoteChangeRefusals (pure)', () => {
  it('allows devices and buses by default, repeating the unchanged ${ENV} credential', () => {
    const next = base + '  - { id: b, driver: sim, poll: 2s, points: [ { name: t } ] }\nbuses: { plc: { type: modbus-tcp, host: plc.local } }\n';
    expect(remoteChangeRefusals(base, next, DEFAULT_POLICY)).toEqual([]);
  });

  it('names every key outside the policy: the allow-list and the writable points', () => {
    const next = base.replace('allow: [ping, config]', `allow: [${COMMAND_NAMES.join(', ')}]\n  writes: { a: "*" }`);
    expect(remoteChangeRefusals(base, next, DEFAULT_POLICY)).toEqual([
      'refused: commands.allow may not be changed remotely (commands.config.remote_may_change: [devices, buses, health.interval])',
      'refused: commands.writes.a may not be changed remotely (commands.config.remote_may_change: [devices, buses, health.interval])',
    ]);
  });

  it('ignores the policy a new config brings: widening the policy is itself refused', () => {
    const next = base.replace('allow: [ping, config]', 'allow: [ping, config, update]\n  config: { remote_may_change: [devices, commands.allow] }');
    const got = remoteChangeRefusals(base, next, DEFAULT_POLICY);
    expect(got).toContain('refused: commands.allow may not be changed remotely (commands.config.remote_may_change: [devices, buses, health.interval])');
    expect(got).toContainEqual(expect.stringMatching(/^refused: commands\.config\.remote_may_change may not be changed remotely — .*change only in the gateway's own file$/));
  });

  it('credentials, the uplink address and TLS, health.auth: never, whatever the policy lists', () => {
    const everything = ['devices', 'buses', 'health.interval', 'homeassistant', 'buffer', 'commands.allow', 'commands.writes', 'commands.rate', 'commands.remember', 'commands.update.max_bytes'];
    const next = base
      .replace('url: mqtts://broker.example:8883', 'url: mqtts://evil.example:8883\n  tls: { ca: /tmp/evil-ca.pem }')
      .replace('password: ${MQTT_PASSWORD}', 'password: hunter2hunter2')
      .concat('health: { auth: { token: "0123456789abcdef0123" } }\n');
    const got = remoteChangeRefusals(base, next, everything);
    expect(got.map((l) => l.split(' may not')[0])).toEqual(['refused: uplink.url', 'refused: uplink.password', 'refused: uplink.tls.ca', 'refused: health.auth.token']);
  });

  it('a new ${ENV} or !secret reference is refused wherever it is, even in an allowed section', () => {
    const next = base + '  - { id: b, driver: sim, points: [ { name: leak, value: "${MQTT_PASSWORD}", unit: !secret mqtt_password } ] }\nbuses: { plc: { type: modbus-tcp, host: "${MQTT_PASSWORD}" } }\n';
    expect(remoteChangeRefusals(base, next, DEFAULT_POLICY)).toEqual([
      'refused: devices[1].points[0].value may not be set remotely to a ${ENV} or !secret reference — only the gateway\'s own file may resolve them',
      'refused: devices[1].points[0].unit may not be set remotely to a ${ENV} or !secret reference — only the gateway\'s own file may resolve them',
      'refused: buses.plc.host may not be set remotely to a ${ENV} or !secret reference — only the gateway\'s own file may resolve them',
    ]);
  });

  it('a serial port outside /dev/ is refused: a device reading a regular file would publish it', () => {
    const next = base + '  - { id: s, driver: serial, port: /etc/citygate/secrets.yaml, protocol: lines }\n  - { id: ok, driver: serial, port: /dev/ttyUSB1, protocol: nmea }\n  - { id: up, driver: serial, port: /dev/../etc/passwd, protocol: lines }\n';
    expect(remoteChangeRefusals(base, next, DEFAULT_POLICY)).toEqual([
      "refused: devices[1].port may not be set remotely to a path outside /dev/ — only the gateway's own file may name other files",
      "refused: devices[3].port may not be set remotely to a path outside /dev/ — only the gateway's own file may name other files",
    ]);
  });

  it('sees through merge keys: an x- anchor cannot smuggle a change in', () => {
    const next = base.replace('commands:', 'x-c: &c { allow: [ping, config, update] }\ncommands:\n  <<: *c').replace('  allow: [ping, config]\n', '');
    expect(remoteChangeRefusals(base, next, DEFAULT_POLICY)).toEqual([expect.stringMatching(/^refused: commands\.allow may not be changed remotely/)]);
  });
});

async function gateway(policy?: string[]) {
  const broker = new EmbeddedBroker();
  await broker.start();
  cleanup.push(() => broker.stop());
  const dir = tempDir('cg-rights-');
  const file = join(dir, 'gateway.yaml');
  const doc = {
    gateway: { id: 'rights-gw', data_dir: join(dir, 'data') },
    uplink: { url: broker.url, protocol_version: 4, reconnect: { min: '100ms', max: '1s' }, batch: { max_delay: '50ms' } },
    buffer: { commit_interval: '20ms' },
    health: { interval: '1s', http: false },
    commands: { allow: ['ping', 'config', 'reload_config'], ...(policy ? { config: { remote_may_change: policy } } : {}) },
    devices: [sim('sim-a')],
  };
  writeFileSync(file, stringify(doc));
  const gw = new Gateway(loadConfigFile(file).config, { configFile: file, reloadGraceMs: 500 });
  const op = await startWithOperator(gw, broker.url, 4, cleanup);
  return { gw, op, file, doc };
}

describe('the attacker with a config right', () => {
  it('cannot grant itself every command: refused with the keys named, nothing written or applied, update still refused', async () => {
    const { gw, op, file, doc } = await gateway();
    const original = readFileSync(file, 'utf8');
    const widened = stringify({ ...doc, commands: { allow: [...COMMAND_NAMES], writes: { 'sim-a': '*' } }, devices: [sim('sim-a'), sim('sim-b')] });
    const reply = await op.request('config', { id: 'w-1', args: { yaml: widened } });
    expect(reply).toMatchObject({ ok: false, error: expect.stringMatching(/^refused: 2 changes a remote config may not make \(commands\.config\.remote_may_change\); nothing changed$/) });
    expect(reply.details).toEqual([
      'refused: commands.allow may not be changed remotely (commands.config.remote_may_change: [devices, buses, health.interval])',
      'refused: commands.writes.sim-a may not be changed remotely (commands.config.remote_may_change: [devices, buses, health.interval])',
    ]);
    expect(readFileSync(file, 'utf8')).toBe(original);
    expect(gw.devices.map((d) => d.id)).toEqual(['sim-a']);
    expect(gw.config.commands.allow).toEqual(['ping', 'config', 'reload_config']);
    expect(await op.request('update', { id: 'u-1', args: { url: 'https://127.0.0.1:1/x.tar.gz', sha256: '0'.repeat(64) } })).toMatchObject({ ok: false, error: expect.stringMatching(/^command "update" is not allowed on this gateway/) });
  });

  it('a point publishing ${MQTT_PASSWORD} is refused before anything resolves', async () => {
    const { op, file, doc } = await gateway();
    const original = readFileSync(file, 'utf8');
    const leak = stringify({ ...doc, devices: [sim('sim-a'), sim('leak', { unit: '${MQTT_PASSWORD}' })] });
    const reply = await op.request('config', { id: 'l-1', args: { yaml: leak } });
    expect(reply).toMatchObject({ ok: false, error: expect.stringMatching(/^refused: devices\[1\]\.points\[0\]\.unit may not be set remotely to a \$\{ENV\} or !secret reference/) });
    expect(readFileSync(file, 'utf8')).toBe(original);
  });

  it('reload_config of a file the gateway can write is judged by the file in force before it', async () => {
    const { gw, op, file, doc } = await gateway();
    writeFileSync(file, stringify({ ...doc, commands: { allow: [...COMMAND_NAMES], config: { remote_may_change: ['devices', 'commands.allow'] } } }));
    const reply = await op.request('reload_config', { id: 'r-1' });
    expect(reply).toMatchObject({ ok: false, error: expect.stringMatching(/^refused: 2 changes/) });
    expect(reply.details).toContainEqual(expect.stringMatching(/^refused: commands\.allow may not be changed remotely/));
    expect(gw.config.commands.allow).toEqual(['ping', 'config', 'reload_config']);
  });

  it('a policy in the file in force is what grants a right', async () => {
    const { gw, op, doc } = await gateway(['devices', 'commands.allow']);
    const next = stringify({ ...doc, commands: { ...doc.commands, allow: ['ping', 'config', 'reload_config', 'health'] } });
    expect(await op.request('config', { id: 'g-1', args: { yaml: next } })).toMatchObject({ ok: true, result: { applied: { inPlace: ['commands'] } } });
    expect(gw.config.commands.allow).toContain('health');
  });
});

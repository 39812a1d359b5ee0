/**
 * `!secret` under systemd: the unit starts `citygate run` in `/`, so secrets.yaml must be
 * found beside the config file for the start, SIGHUP, `reload_config` and `config` alike.
 * A real child gateway with cwd `/`, a broker that admits it only with the password from
 * secrets.yaml, and each of the four paths changing the devices.
 */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedBroker } from '../../../src/demo/embedded-broker.js';
import type { HealthPayload } from '../../../src/uplink/topics.js';
import { tempDir } from '../../helpers/gateway-config.js';
import { commander, until } from '../../helpers/commander.js';
import { ChildGateway } from '../../helpers/child-gateway.js';
import { freePort } from '../../helpers/net.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup.length = 0;
});

const SECRET = 'S3cret-from-secrets-yaml';
const sim = (id: string) => ({ id, driver: 'sim', poll: '100ms', points: [{ name: 't', wave: 'counter' }] });

describe('!secret with the working directory at /', () => {
  it('run, SIGHUP, reload_config and config all read secrets.yaml beside the config file', async () => {
    const broker = new EmbeddedBroker('127.0.0.1', 0, {
      authenticate: (_client, username, password, done) => {
        const pw = password?.toString();
        done(null, (username === 'gw' && pw === SECRET) || (username === 'operator' && pw === 'operator-pw'));
      },
    });
    await broker.start();
    cleanup.push(() => broker.stop());
    const dir = tempDir('cg-secret-cwd-');
    writeFileSync(join(dir, 'secrets.yaml'), `mqtt_pw: ${SECRET}\n`);
    chmodSync(join(dir, 'secrets.yaml'), 0o600);
    const httpPort = await freePort();
    const doc = (devices: unknown[]) => ({
      gateway: { id: 'cwd-gw', data_dir: join(dir, 'data') },
      uplink: { url: broker.url, protocol_version: 4, username: 'gw', password: 'SECRET_REF', reconnect: { min: '100ms', max: '1s' }, batch: { max_delay: '50ms' } },
      health: { interval: '1s', http: `127.0.0.1:${httpPort}` },
      commands: { allow: ['ping', 'config', 'reload_config'] },
      devices,
    });
    const text = (devices: unknown[]): string => stringify(doc(devices)).replace('password: SECRET_REF', 'password: !secret mqtt_pw');

    const child = new ChildGateway(dir, {});
    writeFileSync(child.configFile, text([sim('sim-a')]));
    // A short grace period, so each of the four paths can change the config in turn.
    child.start({ cwd: '/', logLevel: 'info', args: ['--reload-grace', '1s'] });
    cleanup.push(async () => void (await child.kill('SIGTERM')));
    let h: HealthPayload | undefined;
    const poll = (): boolean => {
      void fetch(`http://127.0.0.1:${httpPort}/health`)
        .then((r) => r.json() as Promise<HealthPayload>)
        .then((x) => (h = x))
        .catch(() => undefined);
      return true;
    };
    const has = async (id: string, what: string): Promise<void> => until(() => poll() && h?.devices[id] !== undefined && h.uplink.state === 'online', 30_000, `${what} (${child.output.slice(-1500)})`);
    await has('sim-a', 'the gateway online with the password from secrets.yaml');

    writeFileSync(child.configFile, text([sim('sim-a'), sim('sim-b')]));
    process.kill(child.pid!, 'SIGHUP');
    await has('sim-b', 'sim-b after SIGHUP');
    await child.waitForOutput(/config change kept/);

    const op = await commander(broker.url, 'citygate/cwd-gw', 4, { username: 'operator', password: 'operator-pw' });
    cleanup.push(() => op.close());
    writeFileSync(child.configFile, text([sim('sim-a'), sim('sim-b'), sim('sim-c')]));
    expect(await op.request('reload_config', { id: 'r-1' })).toMatchObject({ ok: true, result: { applied: { added: ['sim-c'] } } });
    await until(() => (child.output.match(/config change kept/g) ?? []).length >= 2, 15_000, 'the reload kept');
    const yaml = text([sim('sim-a'), sim('sim-b'), sim('sim-c'), sim('sim-d')]);
    expect(await op.request('config', { id: 'c-1', args: { yaml } })).toMatchObject({ ok: true, result: { applied: { added: ['sim-d'] } } });
    await has('sim-d', 'sim-d after the config command');
    expect(readFileSync(child.configFile, 'utf8')).toBe(yaml);
    expect(child.output).not.toContain(SECRET);
  });
});

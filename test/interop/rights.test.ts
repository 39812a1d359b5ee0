/**
 * Who may change a gateway, acted out right by right (docs/security.md, "Who holds which
 * right"). One real Mosquitto on a free port with TLS client certificates (CN = identity,
 * `use_identity_as_username`) and the ACL of docs/operations.md; one gateway `gw-a`
 * started from its own file, with a status page behind a token; an https server holding
 * an unsigned release bundle. Each row of RIGHTS is a right, an action and the outcome
 * expected; the rows run in order against the same gateway and every refusal also checks
 * that the gateway's file did not change.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gateway } from '../../src/runtime/gateway.js';
import { loadConfigFile } from '../../src/config/load.js';
import { pendingRequest } from '../../src/release/request.js';
import { signPayload } from '../../src/release/signature.js';
import { BUFFER_FORMAT } from '../../src/buffer/sqlite-schema.js';
import { clientCertFor, makeTestCerts, type TestCerts } from '../helpers/certs.js';
import { tempDir } from '../helpers/gateway-config.js';
import { Mosquitto, closeClient, withTimeout } from '../helpers/mosquitto.js';
import { documentedAcl } from '../helpers/broker-acl.js';
import { freePort } from '../helpers/net.js';
import { startWithOperator, until, type Commander } from '../helpers/commander.js';
import { testKey, trustDir, type TestKey } from '../unit/release/sign-helpers.js';

const TOKEN = 'status-token-8c1f2d9e7a';
const BUNDLE = 'citygate-9.9.9-linux-arm64.tar.gz';
const BUNDLE_BYTES = Buffer.alloc(4096, 1);
const [trusted, stranger] = [testKey(), testKey()];
/** A valid signature file for BUNDLE_BYTES, newer than the running version, by `key`. */
function signedBy(key: TestKey): string {
  const sha256 = createHash('sha256').update(BUNDLE_BYTES).digest('hex');
  const m = { format: 1, name: 'citygate', bundle: BUNDLE, sha256, bytes: BUNDLE_BYTES.length, version: '99.0.0', id: '99.0.0-rights', arch: process.arch, buffer_format: BUFFER_FORMAT, signed_at: new Date(0).toISOString(), next_keys: [] };
  return signPayload(JSON.stringify(m), [key.priv]);
}

interface World {
  dir: string;
  file: string;
  certs: TestCerts;
  broker: Mosquitto;
  gw: Gateway;
  op: Commander;
  /** Everything the operator identity saw under citygate/#. */
  seen: string[];
  statusUrl: string;
  /** The https server's base: /unsigned/<bundle> has no .sig, /stranger/<bundle> one by a key the gateway does not trust. */
  bundleBase: string;
  /** A client holding gateway A's certificate (its broker identity), not the gateway itself. */
  asGatewayA(): Promise<MqttClient>;
}

/** The gateway's file as data, to derive the configs a remote `config` sends. */
const current = (w: World): Record<string, unknown> => parse(readFileSync(w.file, 'utf8')) as Record<string, unknown>;
/** The same file with one change at a dotted path. */
function changed(w: World, path: string, value: unknown): string {
  const doc = current(w);
  const keys = path.split('.');
  let at = doc as Record<string, unknown>;
  for (const k of keys.slice(0, -1)) at = (at[k] ??= {}) as Record<string, unknown>;
  at[keys.at(-1)!] = value;
  return stringify(doc);
}
const sim = (id: string, point: Record<string, unknown> = {}) => ({ id, driver: 'sim', poll: '100ms', points: [{ name: 't', wave: 'counter', ...point }] });

/** `config` with this YAML is refused, the key named, the gateway's file untouched. */
async function configRefused(w: World, yaml: string, key: string): Promise<void> {
  const before = readFileSync(w.file, 'utf8');
  const r = await w.op.request('config', { id: `cfg-${key}`, args: { yaml } });
  expect(r.ok).toBe(false);
  const lines = [r.error ?? '', ...(r.details ?? [])];
  expect(lines.some((l) => l.startsWith(`refused: ${key} may not`)), lines.join('\n')).toBe(true);
  expect(readFileSync(w.file, 'utf8')).toBe(before);
}

interface Right {
  right: string;
  action: string;
  expected: string;
  run(w: World): Promise<void>;
}

const RIGHTS: Right[] = [
  // (a) a gateway's broker identity
  {
    right: 'gateway identity gw-a', action: 'publishes data and status under citygate/gw-a', expected: 'delivered',
    async run(w) {
      await until(() => w.seen.some((s) => s.startsWith('citygate/gw-a/data/sim-a ')) && w.seen.some((s) => s.startsWith('citygate/gw-a/status ')), 10_000, "gw-a's own data and status");
      const c = await w.asGatewayA();
      await c.publishAsync('citygate/gw-a/status', '{"state":"online","from":"identity"}', { qos: 1 });
      await until(() => w.seen.includes('citygate/gw-a/status {"state":"online","from":"identity"}'), 10_000, 'the status published as gw-a');
    },
  },
  {
    right: 'gateway identity gw-a', action: "publishes under gw-b's root", expected: 'Not authorized, never delivered',
    async run(w) {
      const c = await w.asGatewayA();
      await expect(c.publishAsync('citygate/gw-b/status', '{"state":"forged"}', { qos: 1 })).rejects.toThrow(/Not authorized/);
      await expect(c.publishAsync('citygate/gw-b/data/x', '{"forged":1}', { qos: 1 })).rejects.toThrow(/Not authorized/);
      await barrier(w, 'after-forge');
      expect(w.seen.filter((s) => s.includes('forged'))).toEqual([]);
    },
  },
  {
    right: 'gateway identity gw-a', action: "subscribes to gw-b's cmd/", expected: 'nothing delivered',
    async run(w) {
      const c = await w.asGatewayA();
      const got: string[] = [];
      c.on('message', (t) => got.push(t));
      await c.subscribeAsync(['citygate/gw-b/cmd/+', 'citygate/gw-b/#'], { qos: 1 });
      await w.op.client.publishAsync('citygate/gw-b/cmd/ping', '{"id":"for-b"}', { qos: 1 });
      await barrier(w, 'after-read');
      expect(w.seen).toContain('citygate/gw-b/cmd/ping {"id":"for-b"}'); // it was published
      expect(got).toEqual([]);
    },
  },
  // (b) the operator identity and commands.allow
  ...(
    [
      ['ping', {}, { pong: true }],
      ['health', {}, undefined],
      ['restart_device', { device: 'sim-a' }, undefined],
      ['reload_config', {}, undefined],
    ] as const
  ).map(([name, args, result]): Right => ({
    right: 'operator', action: `sends ${name} (in commands.allow)`, expected: 'done',
    async run(w) {
      const r = await w.op.request(name, { id: `allowed-${name}`, args });
      expect(r, JSON.stringify(r)).toMatchObject({ ok: true, ...(result ? { result } : {}) });
    },
  })),
  ...(['gpio_set', 'modbus_write'] as const).map((name): Right => ({
    right: 'operator', action: `sends ${name} (not in commands.allow)`, expected: 'refused',
    async run(w) {
      const r = await w.op.request(name, { id: `denied-${name}`, args: { device: 'sim-a', point: 't', value: 1 } });
      expect(r).toMatchObject({ ok: false, error: expect.stringMatching(new RegExp(`^command "${name}" is not allowed`)) });
    },
  })),
  // (c) the config right, within commands.config.remote_may_change
  {
    right: 'config', action: 'adds a device', expected: 'applied, its data flows',
    async run(w) {
      const r = await w.op.request('config', { id: 'add-device', args: { yaml: changed(w, 'devices', [sim('sim-a'), sim('sim-b')]) } });
      expect(r, JSON.stringify(r)).toMatchObject({ ok: true });
      expect(readFileSync(w.file, 'utf8')).toContain('sim-b');
      await until(() => w.seen.some((s) => s.startsWith('citygate/gw-a/data/sim-b ')), 10_000, 'data from the added device');
      await afterGrace(w);
    },
  },
  ...(
    [
      ['widens commands.allow', 'commands.allow', ['ping', 'health', 'restart_device', 'reload_config', 'config', 'update', 'gpio_set', 'modbus_write'], 'commands.allow'],
      ['moves the uplink', 'uplink.url', 'mqtts://127.0.0.1:1', 'uplink.url'],
      ['sets uplink credentials', 'uplink.password', 'attacker-chosen', 'uplink.password'],
      ['swaps the uplink TLS CA', 'uplink.tls.ca', '/tmp/attacker-ca.pem', 'uplink.tls.ca'],
      ['changes the status page login', 'health.auth.token', 'attacker-token-0123456789', 'health.auth.token'],
      ['widens its own policy', 'commands.config.remote_may_change', ['devices', 'buses', 'health.interval', 'commands'], 'commands.config.remote_may_change'],
      ['puts ${ENV} in a point', 'devices', [sim('sim-a'), sim('sim-b', { unit: '${HOME}' })], 'devices[1].points[0].unit'],
    ] as const
  ).map(([action, path, value, key]): Right => ({
    right: 'config', action, expected: `refused, naming ${key}`,
    run: (w) => configRefused(w, changed(w, path, value), key),
  })),
  // reload_config / SIGHUP: a file the gateway's user can write is judged like a remote config
  {
    right: 'reload_config', action: 'reloads a file edited to widen commands.allow', expected: 'refused, naming commands.allow',
    async run(w) {
      const good = readFileSync(w.file, 'utf8');
      writeFileSync(w.file, changed(w, 'commands.allow', ['ping', 'config', 'gpio_set']));
      try {
        const r = await w.op.request('reload_config', { id: 'reload-widened' });
        expect(r).toMatchObject({ ok: false, error: expect.stringMatching(/^refused: commands\.allow may not be changed remotely/) });
        expect((await w.op.request('gpio_set', { id: 'still-denied', args: { device: 'sim-a', value: 1 } })).ok).toBe(false);
      } finally {
        writeFileSync(w.file, good);
      }
    },
  },
  // (d) update: only signed bundles
  ...(
    [
      ['unsigned', `update refused: ${BUNDLE} is unsigned (no ${BUNDLE}.sig beside it): gateways install only signed releases`],
      ['stranger', `signed by key ${stranger.id}, which this gateway does not trust (trusted: ${trusted.id})`],
    ] as const
  ).map(([kind, why]): Right => ({
    right: 'operator (update allowed)', action: `sends update with a${kind === 'unsigned' ? 'n unsigned' : ' stranger-signed'} bundle`, expected: 'refused, nothing handed to root',
    async run(w) {
      const r = await w.op.request('update', { id: `update-${kind}`, args: { url: `${w.bundleBase}/${kind}/${BUNDLE}` } }, { timeoutMs: 20_000 });
      expect(r.ok).toBe(false);
      expect(r.error).toContain(why);
      expect(pendingRequest(join(w.dir, 'data'))).toBeFalsy();
    },
  })),
  // (e) the status page's readers
  {
    right: 'status page reader', action: 'reads /, /health, /metrics without the token', expected: '401, no data',
    async run(w) {
      for (const path of ['/', '/health', '/metrics', '/health?token=wrong-token-0000000']) {
        const res = await fetch(`${w.statusUrl}${path}`);
        const text = await res.text();
        expect(res.status, path).toBe(401);
        expect(text).not.toContain('gw-a');
        expect(text).not.toContain('sim-a');
      }
      const ok = await fetch(`${w.statusUrl}/health`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(ok.status).toBe(200);
      expect(await ok.text()).toContain('sim-a');
    },
  },
];

/** Wait (bounded) until the applied change has passed its grace period: a reload of the unchanged file is no longer busy. */
async function afterGrace(w: World): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const r = await w.op.request('reload_config', { id: `grace-${i}` });
    if (r.ok) return;
    expect(r.error).toMatch(/another config change is being applied or watched/);
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error('the added device never passed its grace period');
}

/** A command round trip: everything published before it has reached the operator. */
async function barrier(w: World, id: string): Promise<void> {
  await w.op.request('ping', { id });
}

describe('each right, acted out on Mosquitto with the documented ACL over TLS', () => {
  let w: World;
  const cleanup: (() => Promise<void> | void)[] = [];

  beforeAll(async () => {
    const dir = tempDir('cg-rights-');
    const certs = makeTestCerts('gw-a');
    const op = clientCertFor(certs, 'operator');
    writeFileSync(join(dir, 'acl'), documentedAcl());
    const broker = new Mosquitto({
      tls: { ca: certs.ca, cert: certs.serverCert, key: certs.serverKey },
      extra: ['use_identity_as_username true', `acl_file ${join(dir, 'acl')}`],
    });
    await broker.start();
    cleanup.push(() => broker.stop());

    const bundles: Server = createServer({ cert: readFileSync(certs.serverCert), key: readFileSync(certs.serverKey) }, (req, res) => {
      if (req.url === `/unsigned/${BUNDLE}` || req.url === `/stranger/${BUNDLE}`) res.writeHead(200, { 'content-length': String(BUNDLE_BYTES.length) }).end(BUNDLE_BYTES);
      else if (req.url === `/stranger/${BUNDLE}.sig`) res.writeHead(200).end(signedBy(stranger));
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => bundles.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise<void>((r) => bundles.close(() => r())));

    const statusPort = await freePort();
    const file = join(dir, 'gateway.yaml');
    writeFileSync(file, stringify({
      gateway: { id: 'gw-a', data_dir: join(dir, 'data') },
      uplink: { url: broker.url, protocol_version: 5, tls: { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey }, batch: { max_delay: '100ms' } },
      health: { interval: '1s', http: `127.0.0.1:${statusPort}`, auth: { token: TOKEN } },
      commands: { allow: ['ping', 'health', 'restart_device', 'reload_config', 'config', 'update'], update: { ca: certs.ca } },
      devices: [sim('sim-a')],
    }));
    // The keys `update` trusts: `trusted` only, never `stranger`.
    const keys = trustDir(join(dir, 'keys'), [trusted]);
    const gw = new Gateway(loadConfigFile(file).config, { configFile: file, reloadGraceMs: 300, trustDir: keys });
    const commander = await startWithOperator(gw, broker.url, 5, cleanup, { ca: readFileSync(certs.ca), cert: readFileSync(op.cert), key: readFileSync(op.key) });
    const seen: string[] = [];
    commander.client.on('message', (t, p) => seen.push(`${t} ${p.toString('utf8')}`));
    await commander.client.subscribeAsync('citygate/#', { qos: 1 });

    let asA: MqttClient | undefined;
    w = {
      dir, file, certs, broker, gw, op: commander, seen,
      statusUrl: `http://127.0.0.1:${statusPort}`,
      bundleBase: `https://127.0.0.1:${(bundles.address() as { port: number }).port}`,
      async asGatewayA() {
        if (asA) return asA;
        asA = await withTimeout(mqtt.connectAsync(broker.url, {
          protocolVersion: 5, reconnectPeriod: 0, clientId: 'gw-a-identity-probe',
          ca: readFileSync(certs.ca), cert: readFileSync(certs.clientCert), key: readFileSync(certs.clientKey),
        }), 10_000, 'connecting as gw-a');
        const c = asA;
        cleanup.push(() => closeClient(c));
        return asA;
      },
    };
  }, 60_000);

  afterAll(async () => {
    for (const f of cleanup.reverse()) await f();
  });

  it.each(RIGHTS.map((r) => [`${r.right}: ${r.action} → ${r.expected}`, r] as const))('%s', async (_name, row) => {
    await row.run(w);
  }, 30_000);
});

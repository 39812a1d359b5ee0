/**
 * The `update` downlink command: fetches a bundle and its `.sig` over https (a local
 * server with a test CA), checks size while it streams, the signature against the
 * trusted keys (generated here), the hash the signed manifest pins and the version;
 * leaves nothing behind when it refuses, and on success hands a request to
 * citygate-update.service; the outcome that service leaves comes back as an
 * `update_result` event on `events`.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { builtinCommands, type CommandHost } from '../../../src/commands/builtins.js';
import { commandsSchema } from '../../../src/commands/schema.js';
import { EmbeddedBroker } from '../../../src/demo/embedded-broker.js';
import { Gateway } from '../../../src/runtime/gateway.js';
import { requestFile, takeRequest, updatesDir, writeOutcome } from '../../../src/release/request.js';
import { signPayload } from '../../../src/release/signature.js';
import { BUFFER_FORMAT } from '../../../src/buffer/sqlite-schema.js';
import { makeTestCerts, otherCa, type TestCerts } from '../../helpers/certs.js';
import { testKey, trustDir, type TestKey } from '../release/sign-helpers.js';
import { tempDir, testConfig } from '../../helpers/gateway-config.js';
import { until } from '../../helpers/commander.js';

const BUNDLE = 'citygate-9.9.9-linux-arm64.tar.gz';
const body = Buffer.alloc(300_000, 7);
const sha = createHash('sha256').update(body).digest('hex');
const [trusted, stranger] = [testKey(), testKey()];
const keysDir = trustDir(tempDir('cg-upd-keys-'), [trusted]);

/** A signature file vouching for `body` (or what `over` changes) as version 1.1.0. */
function sig(keys: TestKey[], over: Record<string, unknown> = {}): string {
  const m = { format: 1, name: 'citygate', bundle: BUNDLE, sha256: sha, bytes: body.length, version: '1.1.0', id: '1.1.0-x', arch: process.arch, buffer_format: BUFFER_FORMAT, signed_at: new Date(0).toISOString(), next_keys: [], ...over };
  return signPayload(JSON.stringify(m), keys.map((k) => k.priv));
}
/** Signature files by path prefix: what each test case's server holds. */
const sigs: Record<string, string> = {
  '': sig([trusted]),
  '/streamed': sig([trusted]),
  '/declared': sig([trusted]),
  '/unknown': sig([stranger]),
  '/badsig': sig([trusted]).replace('"version":"1.1.0"', '"version":"1.2.0"'),
  '/mismatch': sig([trusted], { sha256: 'f'.repeat(64) }),
  '/old': sig([trusted], { version: '0.9.0' }),
};
let certs: TestCerts;
let server: Server;
let base: string;

beforeAll(async () => {
  certs = makeTestCerts();
  server = createServer({ cert: readFileSync(certs.serverCert), key: readFileSync(certs.serverKey) }, (req, res) => {
    const huge = Buffer.concat([body, body, body, body, body]);
    const m = /^(\/[a-z]+)?\/citygate-[^/]+\.tar\.gz(\.sig)?$/.exec(req.url ?? '');
    if (m?.[2] && sigs[m[1] ?? ''] !== undefined) {
      res.writeHead(200).end(sigs[m[1] ?? '']);
    } else if (m && !m[2] && ['', '/unsigned', '/unknown', '/badsig', '/mismatch', '/old'].includes(m[1] ?? '')) {
      res.writeHead(200, { 'content-length': String(body.length) }).end(body);
    } else if (req.url === `/streamed/${BUNDLE}`) {
      res.writeHead(200).end(huge); // no Content-Length: counted as it streams
    } else if (req.url === `/declared/${BUNDLE}`) {
      res.writeHead(200, { 'content-length': String(huge.length) }).end(huge);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

function host(dataDir: string): CommandHost {
  return {
    version: '1.0.0',
    uptimeSeconds: () => 1,
    publishHealth: () => false,
    deviceIds: () => [],
    restartDevice: async () => undefined,
    driver: () => undefined,
    reloader: () => undefined,
    dataDir: () => dataDir,
    trustDir: keysDir,
  };
}

const commands = (dataDir: string, update: Record<string, unknown> = {}) => {
  const cfg = commandsSchema.parse({ allow: ['update'], update: { ca: certs.ca, max_bytes: '1MiB', ...update } });
  return builtinCommands(host(dataDir), () => cfg);
};

describe('the update command', () => {
  it('fetches bundle and signature over https, checks them, and leaves a request for citygate-update.service', async () => {
    const dir = tempDir('cg-upd-');
    const r = await commands(dir).update({ url: `${base}/${BUNDLE}`, sha256: sha.toUpperCase() });
    expect(r).toMatchObject({ accepted: true, bundle: BUNDLE, bytes: body.length });
    const file = join(updatesDir(dir), BUNDLE);
    expect(readFileSync(file).equals(body)).toBe(true);
    expect(readFileSync(`${file}.sig`, 'utf8')).toBe(sigs['']); // what `citygate update` verifies again, as root
    expect(readdirSync(updatesDir(dir)).sort()).toEqual([BUNDLE, `${BUNDLE}.sig`, 'request.json']);
    // One at a time: a second request waits for the first to be installed.
    await expect(commands(dir).update({ url: `${base}/${BUNDLE}`, sha256: sha })).rejects.toThrow(/already waiting/);
    const req = takeRequest(requestFile(dir));
    expect(req).toMatchObject({ bundle: file, sha256: sha });
    expect(existsSync(requestFile(dir))).toBe(false); // taken: it runs once
    // sha256 in the command is optional: the signature is what vouches for the bytes.
    const dir2 = tempDir('cg-upd-');
    await expect(commands(dir2).update({ url: `${base}/${BUNDLE}` })).resolves.toMatchObject({ accepted: true });
  });

  it('refuses what no trusted key vouches for, with one line each, leaving nothing behind', async () => {
    const dir = tempDir('cg-upd-');
    const c = commands(dir);
    const reason = async (path: string, args: Record<string, unknown> = {}) => {
      const err = (await c.update({ url: `${base}${path}/${BUNDLE}`, ...args }).catch((e: Error) => e)) as Error;
      expect(err).toBeInstanceOf(Error);
      expect(err.message).not.toContain('\n');
      return err.message;
    };
    // The attack this closes: any bytes, with their own hash in the message, and no signature.
    expect(await reason('/unsigned', { sha256: sha })).toBe(`update refused: ${BUNDLE} is unsigned (no ${BUNDLE}.sig beside it): gateways install only signed releases`);
    expect(await reason('/unknown')).toContain(`signed by key ${stranger.id}, which this gateway does not trust (trusted: ${trusted.id})`);
    expect(await reason('/badsig')).toContain(`bad signature by key ${trusted.id}`);
    expect(await reason('/mismatch')).toMatch(/hash mismatch/);
    expect(await reason('/old')).toContain('is version 0.9.0, older than the running 1.0.0');
    // Nothing the message carries can allow a downgrade.
    expect(await reason('/old', { allow_downgrade: true })).toContain('older than the running');
    expect(existsSync(updatesDir(dir)) ? readdirSync(updatesDir(dir)) : []).toEqual([]);
  });

  it('refuses, leaving nothing behind: wrong checksum, plain http, not a bundle, too big, untrusted server', async () => {
    const dir = tempDir('cg-upd-');
    const c = commands(dir);
    await expect(c.update({ url: `${base}/${BUNDLE}`, sha256: '0'.repeat(64) })).rejects.toThrow(/checksum mismatch/);
    await expect(c.update({ url: `http://127.0.0.1:1/${BUNDLE}`, sha256: sha })).rejects.toThrow(/https:\/\/ only/);
    await expect(c.update({ url: `${base}/etc/passwd`, sha256: sha })).rejects.toThrow(/does not look like a release bundle/);
    await expect(c.update({ url: `${base}/${BUNDLE}`, sha256: 'abc' })).rejects.toThrow(/64 hex digits/);
    await expect(c.update({ url: `${base}/nothing/${BUNDLE}`, sha256: sha })).rejects.toThrow(/HTTP 404/);
    // Declared too big, and streamed too big (no Content-Length): stopped either way.
    await expect(c.update({ url: `${base}/streamed/${BUNDLE}`, sha256: sha })).rejects.toThrow(/passed commands.update.max_bytes/);
    await expect(c.update({ url: `${base}/declared/${BUNDLE}`, sha256: sha })).rejects.toThrow(/over commands.update.max_bytes/);
    // A server signed by a CA we do not trust.
    const other = otherCa();
    await expect(commands(dir, { ca: other.ca }).update({ url: `${base}/${BUNDLE}`, sha256: sha })).rejects.toThrow(/download failed/);
    await expect(c.update({ sha256: sha })).rejects.toThrow(/needs "url"/);
    const left = existsSync(updatesDir(dir)) ? readdirSync(updatesDir(dir)) : [];
    expect(left).toEqual([]);
  });
});

describe('update outcome', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const f of cleanup.reverse()) await f();
    cleanup.length = 0;
  });

  it('the outcome citygate-update.service leaves is published once as an update_result event', async () => {
    const broker = new EmbeddedBroker();
    await broker.start();
    cleanup.push(() => broker.stop());
    const dataDir = tempDir('cg-upd-gw-');
    mkdirSync(updatesDir(dataDir), { recursive: true });
    writeOutcome(dataDir, { outcome: 'rolled-back', request_id: null, bundle: join(updatesDir(dataDir), BUNDLE), from: 'a', to: 'b', detail: 'not healthy within 90 s', finished_at: 1 });
    const gw = new Gateway(testConfig({ url: broker.url, dataDir }));
    const sub = await mqtt.connectAsync(broker.url, { protocolVersion: 4, reconnectPeriod: 0 });
    cleanup.push(() => sub.endAsync());
    const events: Record<string, unknown>[] = [];
    sub.on('message', (_t, p) => events.push(JSON.parse(p.toString()) as Record<string, unknown>));
    await sub.subscribeAsync(`${gw.topics.events}`, { qos: 1 });
    await gw.start();
    cleanup.push(() => gw.stop());
    await until(() => events.some((e) => e.type === 'update_result'), 10_000, 'update_result event');
    expect(events.filter((e) => e.type === 'update_result')).toEqual([
      expect.objectContaining({ type: 'update_result', outcome: 'rolled-back', bundle: BUNDLE, from: 'a', to: 'b', detail: 'not healthy within 90 s' }),
    ]);
    expect(readdirSync(updatesDir(dataDir))).toEqual([]); // announced once, then gone
    writeFileSync(join(updatesDir(dataDir), 'result.json'), '{not json');
    await new Promise((r) => setTimeout(r, 1500)); // a health tick: an unreadable outcome is dropped, not fatal
    expect(gw.isRunning).toBe(true);
    expect(readdirSync(updatesDir(dataDir))).toEqual([]);
  });
});

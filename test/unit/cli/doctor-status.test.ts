/**
 * `citygate doctor` and `citygate status` as a technician meets them: a down broker and
 * a dead Modbus TCP port with what to try, warnings not hidden behind "all checks
 * passed", a private key given as the CA named as such; status showing an old uplink
 * error only while the uplink is not online.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { STACK, runCli } from '../../helpers/cli.js';
import { tempDir } from '../../helpers/gateway-config.js';
import { freePort } from '../../helpers/net.js';

function configFile(config: object): string {
  const dir = tempDir();
  const file = join(dir, 'gateway.yaml');
  writeFileSync(file, stringify({ gateway: { id: 'doc-gw', data_dir: dir }, ...config }));
  return file;
}

describe('citygate doctor', () => {
  it('a down broker and a dead Modbus TCP port say what to try; warnings are counted', async () => {
    const dead = await freePort();
    const file = configFile({
      uplink: { url: `mqtt://127.0.0.1:${dead}` },
      buses: { plc: { type: 'modbus-tcp', host: '127.0.0.1', port: dead } },
      devices: [{ id: 'm', driver: 'modbus', bus: 'plc', points: [{ name: 'v', table: 'holding', address: 40001 }] }],
    });
    const r = await runCli(['doctor', '--config', file]);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/! config .*address 40001 looks like a manual's register number/);
    expect(r.stdout).toMatch(new RegExp(`✗ bus plc +127\\.0\\.0\\.1:${dead}: connection refused: .*is the service running, and is the port right\\?`));
    expect(r.stdout).toMatch(new RegExp(`✗ broker tcp +127\\.0\\.0\\.1:${dead} \\(uplink\\.url\\): connection refused: .* the gateway keeps readings in its buffer`));
    expect(r.stdout).toMatch(/\n2 checks failed, \d+ warnings? \(!\)\n$/);
    expect(r.stdout + r.stderr).not.toMatch(STACK);
  }, 60_000);

  it('a private key given as the CA is named as such', async () => {
    const dir = tempDir();
    const key = join(dir, 'client.key');
    writeFileSync(key, '-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n');
    const server = createServer();
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    const port = (server.address() as AddressInfo).port;
    try {
      const file = configFile({ uplink: { url: `mqtts://127.0.0.1:${port}`, tls: { ca: key } }, devices: [{ id: 't', driver: 'sim', points: [{ name: 'a' }] }] });
      const r = await runCli(['doctor', '--config', file]);
      expect(r.stdout).toContain(`✗ broker tls     uplink.tls.ca: ${key} is a private key; it should be a CA certificate`);
      expect(r.code).toBe(2);
    } finally {
      server.close();
    }
  }, 60_000);
});

describe('citygate status', () => {
  let server: Server | undefined;
  afterAll(() => server?.close());

  const health = (uplink: object) => ({
    gateway: 'gw-1', ts: Date.now(), version: '0.1.0', uptime_s: 42,
    uplink: { state: 'online', reconnects: 3, published: 10, acked_readings: 100, ...uplink },
    buffer: { readings: 0, rows: 0, bytes: 0, file_bytes: 4096, oldest_age_s: null, next_seq: 101, dropped: 0, rejected: 0, pending_events: 0 },
    devices: {},
    system: { cpu_temp_c: null, load_1m: 0.1, disk_free_bytes: 1e9 },
  });

  it('shows the last uplink error only while the uplink is not online', async () => {
    let body = health({ state: 'online', last_error: 'connection refused (ECONNREFUSED)' });
    server = createServer((_req, res) => res.end(JSON.stringify(body)));
    await new Promise<void>((res) => server?.listen(0, '127.0.0.1', res));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const online = await runCli(['status', '--url', url]);
    expect(online.code).toBe(0);
    expect(online.stdout).toMatch(/^uplink {2}online {2}reconnects 3/m);
    expect(online.stdout).not.toContain('refused');
    body = health({ state: 'offline', last_error: 'connection refused (ECONNREFUSED)' });
    const offline = await runCli(['status', '--url', url]);
    expect(offline.stdout).toMatch(/^uplink {2}offline \(connection refused \(ECONNREFUSED\)\)/m);
  }, 60_000);

  it('a disabled status page is a user error (exit 1)', async () => {
    const file = configFile({ uplink: { url: 'mqtts://b.example:8883' }, health: { http: false } });
    const r = await runCli(['status', '--config', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('the status page is disabled (health.http: false)');
  }, 60_000);
});

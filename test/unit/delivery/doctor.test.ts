/** `citygate doctor` on site: what passes, what fails, and the exit code. */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { EmbeddedBroker } from '../../../src/demo/embedded-broker.js';
import { tempDir } from '../../helpers/gateway-config.js';

const BIN = fileURLToPath(new URL('../../../bin/citygate.js', import.meta.url));

describe('citygate doctor', () => {
  let broker: EmbeddedBroker | undefined;
  afterEach(async () => broker?.stop());

  const run = async (config: object) => {
    const dir = tempDir();
    const file = join(dir, 'gateway.yaml');
    writeFileSync(file, stringify({ gateway: { id: 'doc-gw', data_dir: dir }, ...config }));
    return new Promise<{ code: number | null; out: string }>((resolve) => {
      const p = spawn(process.execPath, [BIN, 'doctor', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      p.stdout.on('data', (d: Buffer) => (out += d.toString()));
      p.stderr.on('data', (d: Buffer) => (out += d.toString()));
      p.on('exit', (code) => resolve({ code, out }));
    });
  };

  it('passes with a reachable broker and fails, naming the device, for a missing serial adapter', async () => {
    broker = new EmbeddedBroker();
    await broker.start();
    const good = await run({ uplink: { url: broker.url, protocol_version: 4 }, devices: [{ id: 't', driver: 'sim', points: [{ name: 'x' }] }] });
    expect(good.out).toMatch(/✓ config/);
    expect(good.out).toMatch(/✓ broker tcp/);
    expect(good.out).toMatch(/✓ broker mqtt +MQTT 3\.1\.1 CONNECT accepted/);
    expect(good.out).toMatch(/all checks passed|no check failed, but read the \d+ warnings? \(!\) above/);
    expect(good.code).toBe(0);

    const bad = await run({
      uplink: { url: broker.url, protocol_version: 4 },
      devices: [{ id: 'air-1', driver: 'serial', port: '/dev/ttyNOPE0', baud: 9600, protocol: 'pms5003' }],
    });
    expect(bad.out).toMatch(/✗ device air-1 +\/dev\/ttyNOPE0 does not exist — is the adapter plugged in\?/);
    expect(bad.code).toBe(2);
  }, 60_000);

  it('mqtts:// to a plain MQTT port: the TLS check names the likely cause', async () => {
    broker = new EmbeddedBroker();
    await broker.start();
    const r = await run({ uplink: { url: broker.url.replace(/^mqtt:/, 'mqtts:'), protocol_version: 4 }, devices: [{ id: 't', driver: 'sim', points: [{ name: 'x' }] }] });
    expect(r.out).toMatch(/✓ broker tcp/);
    expect(r.out).toMatch(/✗ broker tls +TLS handshake failed: the broker's port closed the connection \((ECONNRESET|EPIPE)\) — is it a plain MQTT port\?/);
    expect(r.code).toBe(2);
  }, 60_000);

  it('reports a broker that is not there without hanging', async () => {
    const r = await run({ uplink: { url: 'mqtt://127.0.0.1:9', protocol_version: 4 } });
    expect(r.out).toMatch(/✗ broker tcp +127\.0\.0\.1:9 \(uplink\.url\): /);
    expect(r.code).toBe(2);
  }, 60_000);
});

/** The README's first command: the demo runs with nothing but Node, delivers, and stops cleanly. */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../helpers/net.js';
import { tempDir } from '../../helpers/gateway-config.js';

const BIN = fileURLToPath(new URL('../../../bin/citygate.js', import.meta.url));

const BOARD = fileURLToPath(new URL('../../../boards/demo.yaml', import.meta.url));

describe('citygate demo', () => {
  it('starts an embedded broker, delivers simulated readings and stops on its own', async () => {
    await demo([]);
  }, 60_000);

  it('counts delivered readings with uplink.encoding: compact too', async () => {
    const board = join(tempDir(), 'demo-compact.yaml');
    writeFileSync(board, readFileSync(BOARD, 'utf8').replace('  protocol_version: 4', '  encoding: compact\n  protocol_version: 4'));
    expect(readFileSync(board, 'utf8')).toContain('encoding: compact');
    await demo(['--config', board]);
  }, 60_000);
});

async function demo(args: string[]): Promise<void> {
  {
    const port = await freePort();
    const proc = spawn(process.execPath, [BIN, 'demo', '--duration', '8', '--port', String(port), '--data-dir', tempDir(), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => {
      const t = setTimeout(() => proc.kill('SIGKILL'), 45_000);
      proc.once('exit', (c) => {
        clearTimeout(t);
        resolve(c);
      });
    });
    expect(out).toContain(`mqtt://127.0.0.1:${port}`);
    expect(out).toContain(`mosquitto_sub -h 127.0.0.1 -p ${port} -t 'citygate/demo-gw/#' -v`);
    const delivered = [...out.matchAll(/delivered (\d+)/g)].map((m) => Number(m[1]));
    expect(Math.max(0, ...delivered)).toBeGreaterThan(0);
    expect(out).toContain('demo stopped');
    expect(code).toBe(0);
  }
}

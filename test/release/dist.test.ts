/**
 * The production path, as installed: `npm run build`, `npm pack`, the tarball
 * unpacked with production dependencies only (no tsx, no TypeScript, no sources),
 * then the `citygate` it ships run with bare node: --help, validate, demo, and
 * `run` publishing a sim board's readings to a real Mosquitto.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { Mosquitto, persistentSubscriber, closeClient } from '../helpers/mosquitto.js';
import { freePort } from '../helpers/net.js';
import { tempDir } from '../helpers/gateway-config.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const work = tempDir('cg-dist-');
const PKG = join(work, 'package');
const BIN = join(PKG, 'bin/citygate.js');

function citygate(args: string[], timeout = 30_000) {
  return spawnSync(process.execPath, [BIN, ...args], { cwd: work, encoding: 'utf8', timeout, env: { ...process.env, CITYGATE_USE_DIST: '' } });
}

beforeAll(() => {
  execFileSync('npm', ['run', 'build'], { cwd: REPO, stdio: 'ignore' });
  const tgz = execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', work], { cwd: REPO, encoding: 'utf8' }).trim().split('\n').pop()!;
  execFileSync('tar', ['-C', work, '-xzf', join(work, tgz)]);
  // The checkout's node_modules, pruned to production: what `npm install citygate` gives.
  cpSync(join(REPO, 'node_modules'), join(PKG, 'node_modules'), { recursive: true, verbatimSymlinks: true });
  execFileSync('npm', ['prune', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--offline'], { cwd: PKG, stdio: 'ignore' });
});

describe('the npm package, installed production-only', () => {
  it('ships dist/, bin/, boards/, deploy/ and no sources, tests or dev tools', () => {
    const top = readdirSync(PKG).sort();
    expect(top).toEqual(expect.arrayContaining(['bin', 'boards', 'deploy', 'dist', 'package.json']));
    for (const absent of ['src', 'test', 'bench', 'tsconfig.json']) expect(top).not.toContain(absent);
    expect(existsSync(join(PKG, 'dist/cli/main.js'))).toBe(true);
    for (const dev of ['tsx', 'typescript', 'vitest', 'jsmodbus']) expect(existsSync(join(PKG, 'node_modules', dev)), dev).toBe(false);
    expect(existsSync(join(PKG, 'node_modules/better-sqlite3'))).toBe(true);
  });

  it('--help and validate run on bare node', () => {
    const help = citygate(['--help']);
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toContain('validate [options] <files...>');
    const ok = citygate(['validate', join(PKG, 'boards/demo.yaml')]);
    expect(ok.status, ok.stderr).toBe(0);
    const bad = join(work, 'bad.yaml');
    writeFileSync(bad, 'gateway: { id: "Not Valid" }\n');
    const r = citygate(['validate', bad]);
    expect(r.status).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/bad\.yaml:1:\d+: gateway\.id: /);
    expect(r.stdout + r.stderr).not.toMatch(/\n\s+at /);
  });

  it('demo runs and stops by itself', async () => {
    const r = citygate(['demo', '--duration', '3', '--port', String(await freePort()), '--data-dir', join(work, 'demo')], 60_000);
    expect(r.status, r.stderr).toBe(0);
  });
});

describe('citygate run from the package, against Mosquitto', () => {
  const broker = new Mosquitto();
  beforeAll(() => broker.start());
  afterAll(() => broker.stop());

  it('publishes a sim board and stops cleanly on SIGTERM', async () => {
    const config = join(work, 'gateway.yaml');
    writeFileSync(config, stringify({
      gateway: { id: 'dist-gw', data_dir: join(work, 'data') },
      uplink: { url: broker.url, batch: { max_readings: 10, max_delay: '100ms' } },
      health: { http: false },
      devices: [{ id: 'sim-1', driver: 'sim', poll: '100ms', points: [{ name: 't', wave: 'counter' }] }],
    }));
    const seen: string[] = [];
    const sub = await persistentSubscriber(broker.url, { clientId: 'dist-sub', protocolVersion: 4, topics: ['citygate/dist-gw/#'], onMessage: (t) => seen.push(t) });
    const child = spawn(process.execPath, [BIN, 'run', '--config', config], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      for (const end = Date.now() + 30_000; !seen.includes('citygate/dist-gw/data/sim-1') && Date.now() < end; ) await new Promise((r) => setTimeout(r, 100));
      expect(seen, stderr).toContain('citygate/dist-gw/data/sim-1');
      expect(seen).toContain('citygate/dist-gw/status');
    } finally {
      child.kill('SIGTERM');
      await closeClient(sub);
    }
    expect(await exited, stderr).toBe(0);
  });
});

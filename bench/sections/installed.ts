/**
 * The installed path (issue 9): what a technician and the service actually start.
 * The package is built (`npm run build`) and packed (`npm pack`) like a release, and
 * its `bin/citygate.js` runs with bare node and the service's heap flags: no src/, so
 * dist/ only, no TypeScript loader.
 *
 * - `citygate --help`: wall time, median of runs, against bare `node -e 0` measured in
 *   the same run (the floor no CLI can beat). Target <= 0.3 s.
 * - RSS idle: `citygate run` on boards/demo.yaml (its devices, status page on) publishing
 *   to the bench broker, sampled from /proc after a warm-up; baseline: a bare node
 *   process idling with a timer. Target <= 75 MB.
 * - CPU per reading under load: `citygate run` with a sim device offering 10,000
 *   readings/s, CPU seconds (utime+stime from /proc) over the readings the broker
 *   acknowledged; baseline: the same run with TurboFan on (the service runs with
 *   `--no-turbofan` to save memory: this row is the price of that, in CPU).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { SERVICE_NODE_FLAGS } from '../../src/runtime/node-flags.js';
import { freePort, startBroker } from '../lib/broker.js';
import { MB } from '../lib/proc.js';
import type { BenchContext, BenchRow, BenchSection } from '../types.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const T = { helpS: 0.3, rssIdleMB: 75 };
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Builds, packs and unpacks the package; returns its bin/citygate.js. */
function installPackage(dir: string): string {
  execFileSync('npm', ['run', 'build'], { cwd: REPO, stdio: 'ignore' });
  const tgz = execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', dir], { cwd: REPO, encoding: 'utf8' }).trim().split('\n').pop()!;
  execFileSync('tar', ['-C', dir, '-xzf', join(dir, tgz)]);
  // Dev dependencies are present but never loaded: the modules dist/ imports resolve the same.
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'package', 'node_modules'));
  return join(dir, 'package', 'bin', 'citygate.js');
}

function wallSeconds(args: string[], runs: number): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, CITYGATE_USE_DIST: '' }, timeout: 30_000 });
    if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}: ${r.stderr?.toString().slice(0, 300)}`);
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return median(times);
}

function rssOf(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}

/** Median RSS of a process started with `args`, sampled for `ms` after `warmMs`. */
async function idleRss(args: string[], warmMs: number, ms: number): Promise<number> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    await new Promise((r) => setTimeout(r, warmMs));
    if (child.exitCode !== null) throw new Error(`exited early (${child.exitCode}): ${stderr}`);
    const samples: number[] = [];
    for (let t = 0; t < ms; t += 200) {
      samples.push(rssOf(child.pid!));
      await new Promise((r) => setTimeout(r, 200));
    }
    return median(samples);
  } finally {
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
  }
}

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime (clock ticks: 100/s on Linux)
}

async function ackedReadings(port: number): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/health`);
  return ((await res.json()) as { uplink: { acked_readings: number } }).uplink.acked_readings;
}

/** CPU seconds per 1,000 acknowledged readings of a gateway under a 10,000 readings/s sim load. */
async function cpuPerKReadings(flags: string[], bin: string, dir: string, brokerUrl: string, protocolVersion: number, ms: number): Promise<number> {
  const port = await freePort();
  const points = Array.from({ length: 200 }, (_, i) => ({ name: `p${i}`, wave: 'sine', min: 0, max: 100, period: '1m', precision: 2 }));
  const board = {
    gateway: { id: 'bench-cpu', data_dir: join(dir, `cpu-${port}`) },
    uplink: { url: brokerUrl, protocol_version: protocolVersion, batch: { max_readings: 100, max_delay: '1s' } },
    health: { http: `127.0.0.1:${port}` },
    devices: [{ id: 'load', driver: 'sim', poll: '20ms', points }],
  };
  const config = join(dir, `cpu-${port}.yaml`);
  writeFileSync(config, stringify(board));
  const child = spawn(process.execPath, [...flags, bin, 'run', '--config', config, '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    await new Promise((r) => setTimeout(r, 4000));
    if (child.exitCode !== null) throw new Error(`exited early (${child.exitCode}): ${stderr}`);
    const [cpu0, n0] = [cpuSeconds(child.pid!), await ackedReadings(port)];
    await new Promise((r) => setTimeout(r, ms));
    const [cpu1, n1] = [cpuSeconds(child.pid!), await ackedReadings(port)];
    if (n1 <= n0) throw new Error(`no readings acknowledged under load: ${stderr}`);
    return ((cpu1 - cpu0) / (n1 - n0)) * 1000;
  } finally {
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
  }
}

const section: BenchSection = {
  name: 'installed',
  async run(ctx: BenchContext): Promise<BenchRow[]> {
    const bin = installPackage(ctx.tmpDir);
    const flags = [...SERVICE_NODE_FLAGS];
    const runs = Math.max(3, Math.round(11 * ctx.scale));
    const bare = wallSeconds(['-e', '0'], runs);
    const help = wallSeconds([...flags, bin, '--help'], runs);
    const tsxHelp = wallSeconds([...flags, join(REPO, 'bin', 'citygate.js'), '--help'], Math.min(runs, 5));
    ctx.log(`--help ${help.toFixed(3)} s, bare node ${bare.toFixed(3)} s, checkout via tsx ${tsxHelp.toFixed(3)} s`);

    const broker = await startBroker(ctx.tmpDir, ctx.log);
    let rss: number;
    let bareRss: number;
    let cpu: number;
    let cpuTurbofan: number;
    try {
      const board = parse(readFileSync(join(REPO, 'boards', 'demo.yaml'), 'utf8')) as Record<string, Record<string, unknown>>;
      board.gateway!.data_dir = join(ctx.tmpDir, 'data');
      board.uplink!.url = broker.url;
      board.uplink!.protocol_version = broker.protocolVersion;
      board.health = { ...board.health, http: `127.0.0.1:${await freePort()}` };
      const config = join(ctx.tmpDir, 'gateway.yaml');
      writeFileSync(config, stringify(board));
      const warmMs = ctx.scale < 1 ? 3000 : 8000;
      const ms = ctx.scale < 1 ? 1000 : 4000;
      rss = await idleRss([...flags, bin, 'run', '--config', config, '--log-level', 'warn'], warmMs, ms);
      bareRss = await idleRss([...flags, '-e', 'setInterval(() => {}, 1000)'], 1000, ms);
      const loadMs = ctx.scale < 1 ? 5000 : 15_000;
      const withTurbofan = flags.filter((f) => f !== '--no-turbofan');
      cpu = await cpuPerKReadings(flags, bin, ctx.tmpDir, broker.url, broker.protocolVersion, loadMs);
      cpuTurbofan = await cpuPerKReadings(withTurbofan, bin, ctx.tmpDir, broker.url, broker.protocolVersion, loadMs);
      ctx.log(`CPU per 1000 readings: ${cpu.toFixed(4)} s with the service flags, ${cpuTurbofan.toFixed(4)} s with TurboFan`);
    } finally {
      await broker.stop();
    }
    return [
      {
        name: 'installed: citygate --help (dist, bare node)',
        value: help,
        unit: 's',
        baseline: bare,
        ratio: help / bare,
        target: `<= ${T.helpS} s`,
        ok: help <= T.helpS,
        note: `median of ${runs}; baseline: node -e 0 in the same run; from a checkout through tsx: ${tsxHelp.toFixed(2)} s`,
      },
      {
        name: 'installed: RSS idle, citygate run (demo board, dist)',
        value: rss / MB,
        unit: 'MB',
        baseline: bareRss / MB,
        ratio: rss / bareRss,
        target: `<= ${T.rssIdleMB} MB`,
        ok: rss / MB <= T.rssIdleMB,
        note: `the service's command line and heap flags, ${broker.label}; baseline: bare node idling on a timer with the same flags`,
      },
      {
        name: 'installed: CPU per 1000 readings at 10k/s (service flags)',
        value: cpu,
        unit: 's',
        baseline: cpuTurbofan,
        ratio: cpu / cpuTurbofan,
        note: 'sim device 200 points every 20 ms, CPU (utime+stime) over readings the broker acknowledged; baseline: the same run with TurboFan on',
      },
    ];
  },
};

export default section;

/**
 * `citygate update` with real builds of the project: three release bundles made from
 * dist/ (0.1.0 installed first, 0.2.0 good, 0.3.0 deliberately broken: its `run`
 * command throws at start), a gateway run by a stand-in for systemd (restarts the
 * service on `current`, and again whenever it exits, like Restart=always), a real
 * Mosquitto. The good update switches and stays; the broken one is rolled back to
 * the release before it; an unsigned bundle, one signed by an unknown key, a damaged
 * one, an older version and a buffer-format bump are refused before anything changes.
 * Row format 2 rolls out over two updates: 0.1.0 is installed as an update from a release
 * that reads only format 1 (so it writes format 1), 0.2.0 after it writes format 2.
 * Bundles are signed by a key generated for the run (host-bundle.ts).
 */
import Database from 'better-sqlite3';
import { BUFFER_FORMAT } from '../../src/buffer/sqlite-schema.js';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ReleaseLayout } from '../../src/release/layout.js';
import { httpHealth } from '../../src/release/health-gate.js';
import type { ServiceControl } from '../../src/release/service.js';
import { update } from '../../src/release/update.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { freePort } from '../helpers/net.js';
import { tempDir } from '../helpers/gateway-config.js';
import { hostBundle, trustKeysIn, type HostBundleOptions } from './host-bundle.js';
import { generateKeys } from '../../src/release/signature.js';
import { createPrivateKey } from 'node:crypto';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const work = tempDir('cg-update-');
const prefix = join(work, 'opt');
const layout = new ReleaseLayout(prefix);
const keys = trustKeysIn(join(work, 'keys'));

const bundle = (version: string, opts?: HostBundleOptions) => hostBundle(work, version, opts);

/** Stands in for systemd: runs current/ like the unit, restarts it when it exits. */
class ChildService implements ServiceControl {
  private child: ChildProcess | undefined;
  private startedAt = 0;
  private stopped = false;
  log = '';
  constructor(private readonly config: string) {}

  private spawn(): void {
    const cur = join(prefix, 'current');
    const child = spawn(join(cur, 'node/bin/node'), [join(cur, 'bin/citygate.js'), 'run', '--config', this.config], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (d: Buffer) => (this.log = (this.log + d.toString()).slice(-4000)));
    this.child = child;
    this.startedAt = Date.now();
    child.once('exit', () => {
      if (this.child === child) this.child = undefined;
      if (!this.stopped) setTimeout(() => !this.stopped && !this.child && this.spawn(), 300);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const c = this.child;
    if (!c) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    await exited;
  }

  async restart(): Promise<void> {
    await this.stop();
    this.stopped = false;
    this.spawn();
  }

  async isActive(): Promise<boolean> {
    return this.child !== undefined && this.child.exitCode === null && Date.now() - this.startedAt > 500;
  }
}

const broker = new Mosquitto();
let service: ChildService;
let config: string;
let health: ReturnType<typeof httpHealth>;
const lines: string[] = [];
const base = () => ({ layout, service, health, dataDir: join(work, 'data'), graceMs: 20_000, pollMs: 300, trustDir: keys, say: (l: string) => lines.push(l) });

beforeAll(async () => {
  execFileSync('npm', ['run', 'build'], { cwd: REPO, stdio: 'ignore' });
  await broker.start();
  const http = `127.0.0.1:${await freePort()}`;
  config = join(work, 'gateway.yaml');
  writeFileSync(config, stringify({
    gateway: { id: 'upd-gw', data_dir: join(work, 'data') },
    uplink: { url: broker.url },
    health: { interval: '1s', http },
    devices: [{ id: 'sim-1', driver: 'sim', poll: '200ms', points: [{ name: 't', wave: 'counter' }] }],
  }));
  health = httpHealth(`http://${http}`);
  service = new ChildService(config);
  // First install: 0.1.0 unpacked and made current, then started, as an update from a
  // release before row format 2 (what a rollback would return to: `previous`).
  const old = join(layout.releases, '0.0.1-old');
  mkdirSync(old, { recursive: true });
  writeFileSync(join(old, 'release.json'), JSON.stringify({ name: 'citygate', version: '0.0.1', id: '0.0.1-old', arch: process.arch, node: '20.0.0', buffer_format: 1 }));
  layout.point('previous', '0.0.1-old');
  const first = await layout.unpack(await bundle('0.1.0'));
  layout.point('current', first.id);
  await service.restart();
});

/** The buffer's format and the format of each row, read beside the running gateway. */
function bufferFormats(): { file: number; rows: number[] } {
  const db = new Database(join(work, 'data', 'buffer.db'), { readonly: true });
  try {
    return { file: Number(db.pragma('user_version', { simple: true })), rows: db.prepare('SELECT DISTINCT fmt FROM batches ORDER BY fmt').pluck().all() as number[] };
  } finally {
    db.close();
  }
}

afterAll(async () => {
  await service?.stop();
  await broker.stop();
});

describe('citygate update', () => {
  it('installs a good release, keeps the one before as previous', async () => {
    // 0.1.0 may be rolled back to a release reading only format 1: it writes format 1.
    await waitFor(() => bufferFormats().rows.length > 0, 20_000);
    expect(bufferFormats()).toEqual({ file: 1, rows: [1] });
    const r = await update({ ...base(), bundle: await bundle('0.2.0') });
    expect(r.outcome, `${lines.join('\n')}\n${service.log}`).toBe('updated');
    expect(layout.linked('current')).toBe(`0.2.0-${process.arch}-test`);
    expect(layout.linked('previous')).toBe(`0.1.0-${process.arch}-test`);
    expect((await health())?.version).toBe('0.2.0');
    // Its rollback target, 0.1.0, reads format 2: it writes format 2, and 0.1.0's rows are still read.
    await waitFor(() => bufferFormats().rows.includes(2), 20_000);
    expect(bufferFormats().file).toBe(2);
  });

  it('rolls a broken release back to the one before it', async () => {
    const before = (await health())!.buffer.next_seq;
    const broken = await bundle('0.3.0', {
      mutate: (dir) => appendFileSync(join(dir, 'dist/cli/commands/run.js'), "\nthrow new Error('deliberately broken build');\n"),
    });
    const r = await update({ ...base(), graceMs: 8000, bundle: broken });
    expect(r.outcome, `${lines.join('\n')}\n${service.log}`).toBe('rolled-back');
    expect(r.detail).toMatch(/the service is not running|status page does not answer/);
    expect(layout.linked('current')).toBe(`0.2.0-${process.arch}-test`);
    const h = await health();
    expect(h?.version).toBe('0.2.0');
    expect(h!.buffer.next_seq).toBeGreaterThan(before); // the same buffer, still counting
  });

  it('refuses unsigned, unknown-key, damaged and older bundles before touching anything', async () => {
    const releases = readdirSync(layout.releases).sort();
    await expect(update({ ...base(), bundle: await bundle('0.4.0', { signers: [] }) })).rejects.toThrow(/update refused: .* is unsigned/);
    const stranger = createPrivateKey(generateKeys().privatePem);
    await expect(update({ ...base(), bundle: await bundle('0.4.0', { signers: [stranger] }) })).rejects.toThrow(/which this gateway does not trust/);
    const tgz = await bundle('0.4.0');
    appendFileSync(tgz, 'garbage after the archive');
    await expect(update({ ...base(), bundle: tgz })).rejects.toThrow(/hash mismatch/);
    await expect(update({ ...base(), bundle: await bundle('0.0.9') })).rejects.toThrow(/older than the running 0\.2\.0/);
    expect(readdirSync(layout.releases).sort()).toEqual(releases);
    expect(layout.linked('current')).toBe(`0.2.0-${process.arch}-test`);
  });

  it('refuses a release whose buffer format the running one could not read back', async () => {
    await expect(update({ ...base(), bundle: await bundle('0.5.0', { bufferFormat: BUFFER_FORMAT + 1 }) })).rejects.toThrow(/a rollback could not read the buffer/);
    expect(layout.linked('current')).toBe(`0.2.0-${process.arch}-test`);
  });

  it('the command says what is wrong in one line, exit 1, for a bundle without its signature', () => {
    const tgz = join(work, 'citygate-x.tar.gz');
    writeFileSync(tgz, 'not a bundle');
    const r = spawnSync(process.execPath, [join(REPO, 'bin/citygate.js'), 'update', tgz, '--config', config, '--prefix', prefix, '--keys', keys], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toMatch(/^citygate: update refused: citygate-x\.tar\.gz is unsigned \(no citygate-x\.tar\.gz\.sig beside it\)[^\n]*$/);
  });

  it('refuses going back to a release before row format 2 once the buffer holds format 2', async () => {
    await expect(update({ ...base(), allowDowngrade: true, bundle: await bundle('0.1.4', { bufferFormat: 1 }) })).rejects.toThrow(/the buffer on disk is format 2; the new release reads at most format 1/);
    expect(layout.linked('current')).toBe(`0.2.0-${process.arch}-test`);
  });

  it('citygate update --allow-downgrade, given on the gateway, goes back to an older release', async () => {
    const older = await bundle('0.1.5');
    const r = spawnSync(process.execPath, [join(REPO, 'bin/citygate.js'), 'update', older, '--config', config, '--prefix', prefix, '--keys', keys, '--grace', '1'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('older than the running 0.2.0');
    const ok = await update({ ...base(), bundle: older, allowDowngrade: true });
    expect(ok.outcome, `${lines.join('\n')}\n${service.log}`).toBe('updated');
    expect(layout.linked('current')).toBe(`0.1.5-${process.arch}-test`);
  });
});

async function waitFor(ok: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      if (ok()) return;
    } catch {
      // the buffer file is not there yet
    }
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 200));
  }
}

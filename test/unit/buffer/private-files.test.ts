/**
 * data_dir is the gateway's alone whatever the umask: `citygate run` in a child process
 * started under umask 022 and 000 leaves data_dir 0700 and every file in it (buffer.db
 * and its -wal/-shm, the seq ledger, lock, pid file, ballast) 0600; a pre-existing
 * looser data_dir is tightened with a log line. Update hand-over files are 0600 too.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { chmodSync, chownSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { EmbeddedBroker } from '../../../src/demo/embedded-broker.js';
import { ChildGateway } from '../../helpers/child-gateway.js';
import { tempDir } from '../../helpers/gateway-config.js';
import { SeqCollector } from '../../helpers/seq-collector.js';
import { takeOutcome, writeOutcome, writeRequest } from '../../../src/release/request.js';

const cleanup: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup.length = 0;
});

/** Every entry under `dir` (itself included) with its permission bits. */
function modes(dir: string): Record<string, string> {
  const out: Record<string, string> = { '.': (statSync(dir).mode & 0o777).toString(8) };
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const p = join(e.parentPath, e.name);
    out[p.slice(dir.length + 1)] = (statSync(p).mode & 0o777).toString(8);
  }
  return out;
}

async function runUnderUmask(umask: string, dataDir: string): Promise<{ running: Record<string, string>; stopped: Record<string, string>; output: string }> {
  const broker = new EmbeddedBroker();
  await broker.start();
  cleanup.push(() => broker.stop());
  const seen = new SeqCollector('citygate/perm-gw');
  broker.onPublish((m) => seen.add(m.topic, m.payload));
  const child = new ChildGateway(tempDir('cg-conf-'), {
    gateway: { id: 'perm-gw', data_dir: dataDir },
    uplink: { url: broker.url, protocol_version: 4, batch: { max_readings: 10, max_delay: '50ms' } },
    health: { http: false },
    devices: [{ id: 'sim', driver: 'sim', poll: '20ms', points: [{ name: 'x' }] }],
  });
  child.start({ logLevel: 'info', wrap: ['sh', '-c', `umask ${umask} && exec "$@"`, 'sh'] });
  cleanup.push(() => (child.alive ? child.kill('SIGKILL') : undefined));
  await seen.waitFor(() => (seen.byDevice.get('sim')?.length ?? 0) > 20, 20_000, 'readings delivered');
  const running = modes(dataDir);
  expect(await child.kill('SIGTERM')).toBe(0);
  return { running, stopped: modes(dataDir), output: child.output };
}

describe('data_dir permissions', () => {
  for (const umask of ['022', '000']) {
    it(`umask ${umask}: data_dir 0700, every file in it 0600, while running and after`, async () => {
      const dataDir = join(tempDir('cg-perm-'), 'data');
      const { running, stopped, output } = await runUnderUmask(umask, dataDir);
      expect(Object.keys(running), output).toEqual(expect.arrayContaining(['buffer.db', 'buffer.db-wal', 'buffer.db-shm', 'gateway.lock', 'citygate.pid']));
      expect(Object.keys(running).length).toBeGreaterThanOrEqual(6); // the seq ledger and ballast too
      for (const m of [running, stopped]) {
        const { '.': dirMode, ...files } = m;
        expect(dirMode).toBe('700');
        expect(Object.entries(files).filter(([, mode]) => mode !== '600')).toEqual([]);
      }
      expect(output).not.toMatch(/tightened to 700/);
    }, 60_000);
  }

  it('a pre-existing data_dir readable by others is tightened, with a log line; looser files too', async () => {
    const dataDir = join(tempDir('cg-perm-'), 'data');
    mkdirSync(dataDir);
    chmodSync(dataDir, 0o755);
    const first = await runUnderUmask('000', dataDir);
    expect(first.output).toMatch(/was readable by others \(mode 755\): tightened to 700/);
    // Files an older version left world-readable.
    for (const f of ['buffer.db', 'citygate.pid', 'gateway.lock']) {
      try {
        chmodSync(join(dataDir, f), 0o644);
      } catch {
        // the pid file is gone after a clean stop
      }
    }
    chmodSync(dataDir, 0o755);
    const second = await runUnderUmask('022', dataDir);
    const { '.': dirMode, ...files } = second.running;
    expect(dirMode).toBe('700');
    expect(Object.entries(files).filter(([, mode]) => mode !== '600')).toEqual([]);
  }, 90_000);

  it('update requests and results are 0600; a result written by root belongs to the owner of updates/', () => {
    const dataDir = tempDir('cg-perm-');
    const updates = join(dataDir, 'updates');
    mkdirSync(updates, { mode: 0o700 });
    writeRequest(dataDir, { bundle: '/x.tar.gz', sha256: 'ab', request_id: 'u-1', requested_at: 1 });
    expect((statSync(join(updates, 'request.json')).mode & 0o777).toString(8)).toBe('600');
    // As root (citygate-update.service) with updates/ owned by the gateway's user (here
    // nobody, 65534): result.json is handed to that user. Not root: it stays ours.
    const root = process.getuid?.() === 0;
    if (root) chownSync(updates, 65534, 65534);
    writeOutcome(dataDir, { outcome: 'updated', request_id: 'u-1', bundle: '/x.tar.gz', detail: 'ok', finished_at: 2 });
    const st = statSync(join(updates, 'result.json'));
    expect((st.mode & 0o777).toString(8)).toBe('600');
    expect(st.uid).toBe(root ? 65534 : process.getuid?.());
    expect(takeOutcome(dataDir)).toMatchObject({ outcome: 'updated' });
  });
});

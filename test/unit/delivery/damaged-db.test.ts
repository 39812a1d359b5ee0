/**
 * A damaged, truncated, foreign, missing or unreachable buffer, met as the service
 * meets it: `citygate run` in a child process on real files. seq is never reused,
 * whatever may be lost is announced (buffer_lost), the old file is kept, and a buffer
 * that cannot be opened gets one line naming the file, the cause and the remedy.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openSync, readdirSync, readFileSync, statSync, truncateSync, unlinkSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ChildGateway } from '../../helpers/child-gateway.js';
import { SeqCollector } from '../../helpers/seq-collector.js';
import { SmallFs } from '../../helpers/small-fs.js';
import { cli } from '../../helpers/cli.js';
import { freePort } from '../../helpers/net.js';
import { tempDir } from '../../helpers/gateway-config.js';
import { EmbeddedBroker } from '../../../src/demo/embedded-broker.js';
import type { EventPayload } from '../../../src/uplink/topics.js';
import { need, root } from '../../helpers/needs.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Rig {
  dir: string;
  data: string;
  port: number;
  child: ChildGateway;
}

async function rig(extra: Record<string, unknown> = {}, data?: string): Promise<Rig> {
  const dir = tempDir();
  const dataDir = data ?? join(dir, 'data');
  const port = await freePort();
  const child = new ChildGateway(dir, {
    gateway: { id: 'dmg-gw', data_dir: dataDir },
    uplink: { url: `mqtt://127.0.0.1:${port}`, protocol_version: 4, reconnect: { min: '100ms', max: '500ms' } },
    buffer: { commit_interval: '20ms', ...extra },
    health: { http: false },
    devices: [{ id: 'd', driver: 'sim', poll: '5ms', points: [{ name: 'p', wave: 'counter', replicas: 10 }] }],
  });
  return { dir, data: dataDir, port, child };
}

/** Seq high-water mark the gateway reached before it went down (from the buffer itself). */
async function nextSeqOf(r: Rig): Promise<number> {
  const s = await cli(['queue', 'stats', '--json', '--config', r.child.configFile]);
  expect(s.code, s.stderr).toBe(0);
  return (JSON.parse(s.stdout) as { next_seq: number }).next_seq;
}

/** Start the gateway again with a broker, collect until `until` holds, stop it. */
async function restartAndCollect(r: Rig, until: (c: SeqCollector) => boolean): Promise<SeqCollector> {
  const broker = new EmbeddedBroker('127.0.0.1', r.port);
  const seen = new SeqCollector('citygate/dmg-gw');
  broker.onPublish((m) => seen.add(m.topic, m.payload));
  await broker.start();
  try {
    r.child.start({ logLevel: 'info' });
    await seen.waitFor(() => until(seen), 30_000, 'the restarted gateway to deliver');
    expect(await r.child.kill('SIGTERM')).toBe(0);
  } finally {
    await broker.stop();
  }
  return seen;
}

const lostEvents = (c: SeqCollector) => c.events.filter((e): e is Extract<EventPayload, { type: 'buffer_lost' }> => e.type === 'buffer_lost');

describe('a damaged or missing buffer', () => {
  const rigs: Rig[] = [];
  let fs: SmallFs | undefined;
  afterEach(async () => {
    for (const r of rigs.splice(0)) await r.child.kill('SIGKILL');
    fs?.unmount();
    fs = undefined;
  });

  it('garbage over the WAL: committed readings that vanished are announced, seq is never reused', async () => {
    const r = await rig();
    rigs.push(r);
    r.child.start({ logLevel: 'info' });
    await r.child.waitForOutput(/gateway started/);
    await sleep(2000);
    const before = await nextSeqOf(r);
    await r.child.kill('SIGKILL');
    const wal = join(r.data, 'buffer.db-wal');
    const size = statSync(wal).size;
    expect(size).toBeGreaterThan(32 + 2 * 4120); // frames to damage
    const fd = openSync(wal, 'r+');
    writeSync(fd, Buffer.alloc(4096, 0x5a), 0, 4096, 32 + 24 + 64); // the first frame's page
    closeSync(fd);
    const seen = await restartAndCollect(r, (c) => c.min() > 0 && c.max > before + 200);
    const lost = lostEvents(seen);
    expect(lost.map((e) => e.reason)).toEqual(['database_damaged']);
    expect(lost[0]!.detail).toMatch(/WAL was damaged/);
    expect(lost[0]!.last_seq).toBeGreaterThanOrEqual(before - 1);
    expect(seen.conflicts).toEqual([]);
    expect(seen.min()).toBeGreaterThan(lost[0]!.last_seq); // nothing stamped with an old seq
    expect(seen.unexplained(lost[0]!.first_seq, seen.max)).toEqual([]);
  }, 90_000);

  it('a truncated database is moved aside (kept), a new one started, the range announced', async () => {
    const r = await rig();
    rigs.push(r);
    r.child.start({ logLevel: 'info' });
    await r.child.waitForOutput(/gateway started/);
    await sleep(2000);
    expect(await r.child.kill('SIGTERM')).toBe(0);
    const before = await nextSeqOf(r);
    const db = join(r.data, 'buffer.db');
    truncateSync(db, Math.floor(statSync(db).size / 2 / 4096) * 4096);
    const seen = await restartAndCollect(r, (c) => c.max > before + 200);
    const lost = lostEvents(seen);
    expect(lost.map((e) => e.reason)).toEqual(['database_damaged']);
    expect(lost[0]!.last_seq).toBeGreaterThanOrEqual(before - 1);
    expect(lost[0]!.moved_to).toMatch(/^buffer\.db\.damaged-/);
    expect(readdirSync(r.data).some((f) => f.startsWith('buffer.db.damaged-'))).toBe(true);
    if (!/was damaged/.test(r.child.output)) console.log(r.child.output);
    expect(r.child.output).toMatch(/was damaged \((truncated|SQLITE_CORRUPT)/);
    expect(seen.min()).toBeGreaterThan(lost[0]!.last_seq);
  }, 90_000);

  it('a deleted database: seq carries on above the ledger and the range is announced as database_missing', async () => {
    const r = await rig();
    rigs.push(r);
    r.child.start({ logLevel: 'info' });
    await r.child.waitForOutput(/gateway started/);
    await sleep(1500);
    expect(await r.child.kill('SIGTERM')).toBe(0);
    const before = await nextSeqOf(r);
    for (const f of readdirSync(r.data)) if (f.startsWith('buffer.db')) unlinkSync(join(r.data, f));
    const seen = await restartAndCollect(r, (c) => c.max > before + 200);
    const lost = lostEvents(seen);
    expect(lost.map((e) => e.reason)).toEqual(['database_missing']);
    expect(seen.min()).toBeGreaterThanOrEqual(before);
  }, 90_000);

  it('a foreign database or a non-database file is moved aside, not overwritten', async () => {
    for (const kind of ['foreign', 'garbage'] as const) {
      const r = await rig();
      rigs.push(r);
      const db = join(r.data, 'buffer.db');
      const { mkdirSync } = await import('node:fs');
      mkdirSync(r.data, { recursive: true });
      if (kind === 'foreign') {
        const other = new Database(db);
        other.exec("CREATE TABLE users (name TEXT); INSERT INTO users VALUES ('alice')");
        other.close();
      } else {
        writeFileSync(db, Buffer.alloc(8192, 0x42));
      }
      await restartAndCollect(r, (c) => c.max > 100);
      const aside = readdirSync(r.data).find((f) => /^buffer\.db\.damaged-[^-]/.test(f) && !f.endsWith('-wal') && !f.endsWith('-shm'));
      expect(aside, r.child.output).toBeDefined();
      if (kind === 'foreign') expect(new Database(join(r.data, aside!), { readonly: true }).prepare('SELECT name FROM users').pluck().get()).toBe('alice');
      else expect(readFileSync(join(r.data, aside!)).equals(Buffer.alloc(8192, 0x42))).toBe(true);
      expect(r.child.output).toMatch(kind === 'foreign' ? /not a citygate buffer \(tables users\)/ : /not a SQLite database/);
    }
  }, 120_000);

  it('on_corrupt: refuse — the gateway does not start, and says which file, why and what to do', async () => {
    const r = await rig({ on_corrupt: 'refuse' });
    rigs.push(r);
    const { mkdirSync } = await import('node:fs');
    mkdirSync(r.data, { recursive: true });
    writeFileSync(join(r.data, 'buffer.db'), Buffer.alloc(8192, 0x42));
    r.child.start();
    expect(await r.child.exited).toBe(2);
    expect(r.child.output).toMatch(/buffer\.db: not a SQLite database — buffer\.on_corrupt is "refuse": move the file aside by hand/);
    expect(r.child.output).not.toMatch(/\n\s+at /);
  }, 60_000);

  it('a read-only mount: run refuses with the remedy; queue stats and export still read the card', async (ctx) => {
    need(ctx, root('the test mounts a tmpfs and remounts it read-only'));
    fs = new SmallFs(8 * 1024 * 1024).mount();
    const r = await rig({}, fs.dir);
    rigs.push(r);
    r.child.start({ logLevel: 'info' });
    await r.child.waitForOutput(/gateway started/);
    await sleep(1000);
    expect(await r.child.kill('SIGTERM')).toBe(0);
    const before = await nextSeqOf(r);
    fs.remount(true);
    r.child.start();
    expect(await r.child.exited).toBe(2);
    expect(r.child.output).toMatch(/mounted read-only \(EROFS\) — nothing can be buffered; remount it read-write/);
    expect(r.child.output).not.toMatch(/\n\s+at /);
    expect(await nextSeqOf(r)).toBe(before);
    const exp = await cli(['queue', 'export', '--config', r.child.configFile]);
    expect(exp.code, exp.stderr).toBe(0);
    expect(exp.stdout.split('\n').filter(Boolean).length).toBeGreaterThan(0);
    fs.remount(false);
  }, 60_000);

  it('a data_dir that cannot be created: one line naming it and the fix', async () => {
    const dir = tempDir();
    const blocker = join(dir, 'not-a-dir');
    writeFileSync(blocker, 'x');
    const r = await rig({}, join(blocker, 'data'));
    rigs.push(r);
    r.child.start();
    expect(await r.child.exited).toBe(2);
    expect(r.child.output).toMatch(/not-a-dir\/data: cannot create gateway\.data_dir \(ENOTDIR\) — create it and give it to the service user/);
  }, 30_000);
});

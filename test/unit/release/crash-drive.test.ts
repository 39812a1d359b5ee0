/**
 * The machine test's crash drive (test/machine/crash-drive.ts) against a real NBD client:
 * qemu-io, the same block layer qemu-system uses for the guest's disk. What a flush made
 * durable survives a crash; what was only acknowledged may be lost; the write in flight is
 * torn at a sector; FUA writes are never lost; reads always see the newest data.
 */
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CrashDrive, SECTOR } from '../../machine/crash-drive.js';
import { tempDir } from '../../helpers/gateway-config.js';
import { need, tool } from '../../helpers/needs.js';

let drive: CrashDrive | undefined;
afterEach(async () => {
  await drive?.close();
  drive = undefined;
});

/**
 * Runs qemu-io commands against the drive (asynchronously: the server runs in this
 * process); returns what it printed, whatever its exit status. It flushes when it closes
 * the image, as qemu does at a clean shutdown.
 */
async function qemuIo(url: string, ...cmds: string[]): Promise<string> {
  try {
    const r = await promisify(execFile)('qemu-io', ['-f', 'raw', '-t', 'writeback', url, ...cmds.flatMap((c) => ['-c', c])], { encoding: 'utf8', timeout: 60_000 });
    return r.stdout + r.stderr;
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    return `${err.stdout ?? ''}${err.stderr ?? ''}${err.message}`;
  }
}

/**
 * Writes with qemu-io, then SIGKILLs it once the drive has acknowledged every write (it
 * sleeps after them, so it never reaches its flush at close).
 */
async function writeThenDie(d: CrashDrive, url: string, ...writes: string[]): Promise<void> {
  const want = d.writes + writes.length;
  const p = spawn('qemu-io', ['-f', 'raw', '-t', 'writeback', url, ...[...writes, 'sleep 60000'].flatMap((c) => ['-c', c])], { stdio: 'ignore' });
  const until = Date.now() + 30_000;
  while (d.writes < want) {
    if (Date.now() > until || p.exitCode !== null) throw new Error(`qemu-io did not write ${writes.length} times (exit ${p.exitCode})`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const gone = new Promise((r) => p.once('exit', r));
  p.kill('SIGKILL');
  await gone;
}

const failed = (out: string): boolean => /Pattern verification failed|error|failed/i.test(out);

async function driveWithBase(bytes: number, fill: number): Promise<{ d: CrashDrive; url: string }> {
  const base = join(tempDir('cg-crashdrive-'), 'base.img');
  writeFileSync(base, Buffer.alloc(bytes, fill));
  const d = new CrashDrive(base);
  return { d, url: await d.listen() };
}

describe('crash drive (NBD, the volatile cache of a card)', () => {
  it('reads see the newest writes; flushed data survives the crash; the base file is never written', async (ctx) => {
    need(ctx, tool('qemu-io'));
    const { d, url } = await driveWithBase(1 << 20, 0xee);
    drive = d;
    // One qemu-io: its read comes before the flush it makes at close, so it is served from the cache.
    const seen = await qemuIo(url, 'write -P 0x11 0 64k', 'read -P 0x11 0 64k', 'read -P 0xee 65536 4k');
    expect(failed(seen), seen).toBe(false);
    expect(d.flushes).toBeGreaterThanOrEqual(1);
    await writeThenDie(d, url, 'write -P 0x22 65536 64k');
    // The only pending write is the one in flight: torn after 1 + floor(0.99 × 127) = 126 sectors.
    const state = d.crash(() => 0.99);
    expect(state).toMatchObject({ pending: 1, kept: 0, torn: { sectors: 126, of: 128 } });
    const after = await qemuIo(url, 'read -P 0x11 0 64k', `read -P 0x22 65536 ${126 * SECTOR}`, `read -P 0xee ${65536 + 126 * SECTOR} ${2 * SECTOR}`);
    expect(failed(after), after).toBe(false);
    expect(readFileSync(d.baseImage).every((b) => b === 0xee)).toBe(true);
  });

  it('an unflushed write is lost whole, kept whole, or torn after a whole number of sectors', async (ctx) => {
    need(ctx, tool('qemu-io'));
    const { d, url } = await driveWithBase(1 << 20, 0x00);
    drive = d;
    await writeThenDie(d, url, 'write -P 0x33 0 8k');
    // rand: the in-flight pick (only one candidate), then the tear point: 0.5 → 1 + floor(0.5 × 15) = 8 sectors.
    const values = [0, 0.5];
    const state = d.crash(() => values.shift() ?? 0);
    expect(state.torn).toEqual({ sectors: 8, of: 16 });
    const out = await qemuIo(url, `read -P 0x33 0 ${8 * SECTOR}`, `read -P 0x00 ${8 * SECTOR} ${8 * SECTOR}`);
    expect(failed(out), out).toBe(false);
  });

  it('a FUA write survives the crash without a flush; the others since the flush may not', async (ctx) => {
    need(ctx, tool('qemu-io'));
    const { d, url } = await driveWithBase(1 << 20, 0x00);
    drive = d;
    await writeThenDie(d, url, 'write -P 0x44 0 4k', 'write -f -P 0x55 8192 4k', 'write -P 0x66 16384 512');
    // Every coin says "lost" (0.99 ≥ 0.5); the in-flight pick is the 4k write, torn to 1 sector.
    const values = [0, 0];
    const state = d.crash(() => values.shift() ?? 0.99);
    expect(state).toMatchObject({ pending: 3, kept: 1, torn: { sectors: 1, of: 8 } });
    const out = await qemuIo(url, 'read -P 0x44 0 512', 'read -P 0x00 512 3584', 'read -P 0x55 8192 4k', 'read -P 0x00 16384 512');
    expect(failed(out), out).toBe(false);
  });

  it('the checks can fail: a wrong pattern is reported', async (ctx) => {
    need(ctx, tool('qemu-io'));
    const { d, url } = await driveWithBase(1 << 20, 0x00);
    drive = d;
    await qemuIo(url, 'write -P 0x77 0 4k', 'flush');
    expect(failed(await qemuIo(url, 'read -P 0x78 0 4k'))).toBe(true);
  });
});

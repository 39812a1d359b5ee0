/**
 * `<data_dir>/citygate.pid` marks a running gateway, so tools that must not run
 * beside it (`queue purge`) can refuse with a clear message. Written atomically: after a
 * power cut it holds a whole pid (an old one, which `runningPid` checks is alive) or none.
 *
 * A full disk must not keep the gateway from starting (it still has readings to deliver
 * and a buffer that drops the oldest): the atomic write needs a new block for its temp
 * file, so on ENOSPC the pid is written in place over the old one, as before (a torn pid
 * there reads as no gateway, which `queue purge`'s lock check still catches).
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeFileOps, writeFileAtomic, type FileOps } from '../core/durable-file.js';

export const pidFile = (dataDir: string): string => join(dataDir, 'citygate.pid');

export function writePid(dataDir: string, ops: FileOps = nodeFileOps): void {
  try {
    writeFileAtomic(pidFile(dataDir), `${process.pid}\n`, { mode: 0o600, ops });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC' || ops !== nodeFileOps) throw err;
    writeFileSync(pidFile(dataDir), `${process.pid}\n`, { mode: 0o600 });
  }
}

export function removePid(dataDir: string): void {
  try {
    if (readFileSync(pidFile(dataDir), 'utf8').trim() === String(process.pid)) rmSync(pidFile(dataDir));
  } catch {
    // already gone
  }
}

/** The pid of a live gateway using this data dir, if any. */
export function runningPid(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(pidFile(dataDir), 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return undefined;
    process.kill(pid, 0);
    return pid;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? -1 : undefined;
  }
}

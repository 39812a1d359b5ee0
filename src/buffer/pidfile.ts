/**
 * `<data_dir>/citygate.pid` marks a running gateway, so tools that must not run
 * beside it (`queue purge`) can refuse with a clear message.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tightenFile } from './private-files.js';
import { join } from 'node:path';

export const pidFile = (dataDir: string): string => join(dataDir, 'citygate.pid');

export function writePid(dataDir: string): void {
  writeFileSync(pidFile(dataDir), `${process.pid}\n`, { mode: 0o600 });
  tightenFile(pidFile(dataDir)); // a pid file left by an older version keeps its mode otherwise
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

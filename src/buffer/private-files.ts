/**
 * Everything in data_dir is the gateway's alone: the directory is 0700 and every file
 * in it 0600 (the buffer database and its -wal/-shm, the seq ledger, the lock and pid
 * files, update requests), whatever the umask of whoever started the process. The
 * systemd unit sets UMask=0077 too; this holds outside it (a technician's `citygate
 * run`, a container, a test).
 *
 * SQLite creates a database's -wal and -shm with the mode of the database file itself,
 * so creating buffer.db as 0600 before SQLite opens it covers all three.
 */
import { chmodSync, closeSync, constants, fchmodSync, fstatSync, openSync, statSync } from 'node:fs';
import { makeDirs } from '../core/make-dirs.js';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/**
 * Create `dir` as 0700 (parents as needed), or tighten an existing one. Returns the
 * looser mode it had (for a log line), or undefined when it was already private or
 * could not be changed (not ours: the writability check that follows says so).
 */
export function ensurePrivateDir(dir: string): number | undefined {
  makeDirs(dir, PRIVATE_DIR_MODE);
  const mode = statSync(dir).mode & 0o777;
  if ((mode & 0o077) === 0) return undefined;
  try {
    chmodSync(dir, PRIVATE_DIR_MODE);
    return mode;
  } catch {
    return undefined;
  }
}

/** Create `file` empty as 0600 if missing, or tighten it; before a library (SQLite) opens it. */
export function ensurePrivateFile(file: string): void {
  const fd = openSync(file, constants.O_RDWR | constants.O_CREAT, PRIVATE_FILE_MODE);
  try {
    tightenFd(fd);
  } finally {
    closeSync(fd);
  }
}

/** Make an open file 0600 if it is looser (a file of another owner is left as it is). */
export function tightenFd(fd: number): void {
  if ((fstatSync(fd).mode & 0o077) === 0) return;
  try {
    fchmodSync(fd, PRIVATE_FILE_MODE);
  } catch {
    // not ours (EPERM): nothing to tighten from here
  }
}

/** The same for a path that may not exist (e.g. an -wal left by an older version). */
export function tightenFile(file: string): void {
  try {
    if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, PRIVATE_FILE_MODE);
  } catch {
    // absent or not ours
  }
}

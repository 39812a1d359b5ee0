/**
 * One owner per data_dir. Two gateways on one buffer hand out the same seqs twice, so
 * the second must refuse to start, naming the pid that holds the directory.
 *
 * The lock is a kernel lock, not a pid file alone: an exclusive transaction on a tiny
 * SQLite file (`gateway.lock`) that stays open for the life of the process. SQLite's
 * POSIX locks are released by the kernel when the process dies, `kill -9` included,
 * so a stale lock cannot outlive its owner, and no native addon is needed. The pid
 * file beside it (pidfile.ts) only says who holds it.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { dataPermissionError, isPermissionDenied, UserError } from '../core/errors.js';
import { runningPid } from './pidfile.js';
import { ensurePrivateFile } from './private-files.js';

export const LOCK_FILE = 'gateway.lock';

export class DirLock {
  private db: Database.Database | undefined;

  constructor(readonly dataDir: string) {}

  /** Take the lock or throw a UserError naming the holder. */
  acquire(): void {
    const file = join(this.dataDir, LOCK_FILE);
    try {
      ensurePrivateFile(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new UserError(`${this.dataDir} does not exist — has the gateway run with this config (gateway.data_dir)?`);
      if (isPermissionDenied(err)) throw dataPermissionError(file);
      throw err;
    }
    const db = new Database(file, { timeout: 0 });
    try {
      db.pragma('locking_mode = EXCLUSIVE');
      // A write is what makes SQLite take (and, in exclusive mode, keep) the lock on
      // the file; an empty database would not be locked at all.
      db.exec('CREATE TABLE IF NOT EXISTS owner (pid INTEGER)');
      db.exec('BEGIN EXCLUSIVE');
      db.prepare('DELETE FROM owner').run();
    } catch (err) {
      db.close();
      if ((err as { code?: string }).code === 'SQLITE_BUSY') {
        const pid = runningPid(this.dataDir);
        const who = pid === undefined ? 'another process' : pid === -1 ? 'a process of another user' : `pid ${pid}`;
        throw new UserError(
          `${this.dataDir} is in use by ${who}: another citygate gateway runs on this data_dir — stop it first (sudo systemctl stop citygate), or give this one its own gateway.data_dir`,
        );
      }
      throw err;
    }
    this.db = db;
  }

  release(): void {
    if (!this.db) return;
    try {
      this.db.exec('ROLLBACK');
    } catch {
      // nothing to roll back
    }
    this.db.close();
    this.db = undefined;
  }

  /** Whether a gateway holds the lock of `dataDir` right now (for tools that must not run beside it). */
  static held(dataDir: string): boolean {
    const probe = new DirLock(dataDir);
    try {
      probe.acquire();
      probe.release();
      return false;
    } catch (err) {
      if (err instanceof UserError) return true;
      return false;
    }
  }
}

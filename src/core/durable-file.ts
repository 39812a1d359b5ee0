/**
 * Small files that must survive a power cut: the one way citygate writes them, and the
 * file operations it writes them with.
 *
 * `FileOps` is the few synchronous calls the durable writers use (the seq ledger,
 * the config written by `config`, the update hand-over files, the pid file). The
 * real one is `nodeFileOps`; tests put a recording, crash-simulating disk in its
 * place (test/helpers/crash-disk.ts) and check every state a power cut can leave.
 *
 * `writeFileAtomic(file, data)` leaves, whatever instant the power goes, either the
 * old file or the new one, whole:
 *   1. write `.<name>.tmp-<pid>` beside it and fsync it (the data is on the card);
 *   2. rename it over `file` (atomic in the directory);
 *   3. fsync the directory (the rename itself is on the card: without this a power
 *      cut can bring the old name back, or on some file systems an empty new file).
 * `removeFileDurably(file)` is unlink + directory fsync, for hand-over files whose
 * removal means "done" and must not come back after a power cut.
 */
import { chownSync, closeSync, constants, fchmodSync, fdatasyncSync, fstatSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export interface FileOps {
  /**
   * Open for reading and writing, creating the file if missing. Never truncates. The file
   * ends up no looser than `mode`, whatever the umask (an older, looser file is tightened).
   */
  openRw(path: string, mode: number): number;
  /** Create or truncate for writing; the file has exactly `mode`, whatever the umask. */
  openTrunc(path: string, mode: number): number;
  /** Write all of `data` at byte `pos`. */
  pwrite(fd: number, data: Buffer, pos: number): void;
  /** Flush data and metadata of the open file. */
  fsync(fd: number): void;
  /** Flush data (and the size, if it changed) of the open file. */
  fdatasync(fd: number): void;
  size(fd: number): number;
  close(fd: number): void;
  rename(from: string, to: string): void;
  unlink(path: string): void;
  /** Flush a directory's entries (created, renamed, removed names). */
  fsyncDir(dir: string): void;
  /** Whole contents; throws with `code` ENOENT when absent, and as the system does otherwise (EIO). */
  readFile(path: string): Buffer;
  /** Hand a file to another owner (root writing for the gateway's user); absent in disk models. */
  chown?(path: string, uid: number, gid: number): void;
}

/** Give an open file `mode` if it is looser; a file of another owner is left as it is (EPERM). */
function noLooserThan(fd: number, mode: number): void {
  if ((fstatSync(fd).mode & 0o777 & ~mode) === 0) return;
  try {
    fchmodSync(fd, mode);
  } catch {
    // not ours: nothing to tighten from here
  }
}

export const nodeFileOps: FileOps = {
  openRw: (path, mode) => {
    const fd = openSync(path, constants.O_RDWR | constants.O_CREAT, mode);
    noLooserThan(fd, mode);
    return fd;
  },
  openTrunc: (path, mode) => {
    const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, mode);
    noLooserThan(fd, mode);
    return fd;
  },
  pwrite: (fd, data, pos) => {
    let done = 0;
    // A regular file takes the whole buffer at once; the loop is for the rules, bounded by its length.
    while (done < data.length) done += writeSync(fd, data, done, data.length - done, pos + done);
  },
  fsync: (fd) => fsyncSync(fd),
  fdatasync: (fd) => fdatasyncSync(fd),
  size: (fd) => fstatSync(fd).size,
  close: (fd) => closeSync(fd),
  rename: (from, to) => renameSync(from, to),
  unlink: (path) => unlinkSync(path),
  fsyncDir: (dir) => {
    let fd: number;
    try {
      fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
    } catch {
      return; // not openable as a directory here: the rename is still atomic
    }
    try {
      fsyncSync(fd);
    } catch {
      // some file systems refuse fsync on a directory (EINVAL); nothing better exists
    } finally {
      closeSync(fd);
    }
  },
  readFile: (path) => readFileSync(path),
  chown: (path, uid, gid) => chownSync(path, uid, gid),
};

export interface AtomicWriteOptions {
  /** Permission bits of the written file, whatever the umask (default 0o600: data_dir files are private). */
  mode?: number;
  /** Owner to hand the file to before it takes its name (root writing a file the gateway reads). */
  owner?: { uid: number; gid: number };
  ops?: FileOps;
}

/** Replace `file` with `data`: old or new after a power cut, never a mix, never empty. */
export function writeFileAtomic(file: string, data: string | Buffer, o: AtomicWriteOptions = {}): void {
  const ops = o.ops ?? nodeFileOps;
  const dir = dirname(file);
  const tmp = join(dir, `.${basename(file)}.tmp-${process.pid}`);
  const fd = ops.openTrunc(tmp, o.mode ?? 0o600);
  try {
    ops.pwrite(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data, 0);
    if (o.owner !== undefined) ops.chown?.(tmp, o.owner.uid, o.owner.gid);
    ops.fsync(fd);
  } catch (err) {
    ops.close(fd);
    try {
      ops.unlink(tmp);
    } catch {
      // best effort: a stale temp file is harmless and overwritten next time
    }
    throw err;
  }
  ops.close(fd);
  ops.rename(tmp, file);
  ops.fsyncDir(dir);
}

/** Remove `file` so that it stays removed after a power cut. False when it was not there. */
export function removeFileDurably(file: string, ops: FileOps = nodeFileOps): boolean {
  try {
    ops.unlink(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  ops.fsyncDir(dirname(file));
  return true;
}

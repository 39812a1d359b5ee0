/**
 * Put a freshly unpacked release on the card before anything points at it.
 *
 * `tar` leaves the files in the page cache; `current` is then switched with a rename and
 * a directory fsync (layout.ts), which commits the file system's journal. On ext4 with
 * delayed allocation that commit can reach the card before the files' data: a power cut
 * in the next half minute (the kernel's writeback interval) leaves `current` pointing at
 * a release whose files are empty, and the gateway does not start again. So the tree is
 * flushed first, once: `sync -f` (syncfs(2): one flush of the whole file system, cheap
 * on an SD card), or, where that fails, an fsync of every file and directory in it.
 * docs/field-notes.md#power-cut-after-an-update.
 */
import { execFile } from 'node:child_process';
import { closeSync, constants, fsyncSync, openSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export type Flushed = 'syncfs' | 'walk';

/** Flush `dir` (every file and directory under it, and its own entry in its parent) to the card. */
export async function flushTree(dir: string, syncfs: (dir: string) => Promise<void> = syncFileSystem): Promise<Flushed> {
  try {
    await syncfs(dir);
    return 'syncfs';
  } catch {
    fsyncWalk(dir);
    fsyncPath(join(dir, '..'));
    return 'walk';
  }
}

async function syncFileSystem(dir: string): Promise<void> {
  await run('sync', ['-f', dir], { timeout: 600_000 });
}

/** fsync every regular file and directory under `dir`, children before their directory. */
export function fsyncWalk(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) n += fsyncWalk(p);
    else if (e.isFile()) n += fsyncPath(p);
  }
  return n + fsyncPath(dir);
}

function fsyncPath(path: string): number {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return 1;
}

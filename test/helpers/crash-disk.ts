/**
 * A crash-state model of a disk for small files, in the spirit of ALICE, CrashMonkey
 * and SQLite's crash-test VFS.
 *
 * `CrashDisk` is a `FileOps` (src/core/durable-file.ts) over an in-memory file system
 * that records every operation the writer performs. `crashStates()` then lists what a
 * power cut after each operation may leave on the card, under this model:
 *
 * - Files are inodes; names are directory entries pointing at them.
 * - Data (writes, truncation) of an inode is durable once an fsync/fdatasync of that
 *   inode followed it. Until then any subset of its writes may have reached the card,
 *   in any order, and a multi-sector write may be torn at any 512-byte sector: the
 *   model tries every subset (up to 6 pending writes; beyond that: none, all, all but
 *   one, and every prefix), and for each pending write every prefix and every suffix
 *   of its sectors.
 * - Names (create, rename, unlink) are durable once their directory was fsynced.
 *   Until then a journaled file system persists them in order: any prefix of the
 *   pending name operations may have reached the card.
 *
 * Each crash state comes with the acknowledgements (`mark()`) the writer made before
 * the crash: what the program had already told the world was on disk.
 */
import { createHash } from 'node:crypto';
import { dirname } from 'node:path';
import type { FileOps } from '../../src/core/durable-file.js';

export const SECTOR = 512;

export interface DiskImage {
  names: Map<string, number>;
  inodes: Map<number, Buffer>;
}

type Op =
  | { k: 'create'; path: string; ino: number }
  | { k: 'rename'; from: string; to: string }
  | { k: 'unlink'; path: string }
  | { k: 'fsyncdir'; dir: string }
  | { k: 'trunc'; ino: number }
  | { k: 'write'; ino: number; pos: number; data: Buffer }
  | { k: 'fsync'; ino: number }
  | { k: 'mark'; value: unknown };

const isName = (o: Op): o is Extract<Op, { k: 'create' | 'rename' | 'unlink' }> => o.k === 'create' || o.k === 'rename' || o.k === 'unlink';
const isData = (o: Op): o is Extract<Op, { k: 'trunc' | 'write' }> => o.k === 'trunc' || o.k === 'write';
const dirOf = (o: Extract<Op, { k: 'create' | 'rename' | 'unlink' }>): string => dirname(o.k === 'rename' ? o.to : o.path);

function errno(code: string, path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${path}`), { code });
}

export function cloneImage(img: DiskImage): DiskImage {
  return { names: new Map(img.names), inodes: new Map([...img.inodes].map(([k, v]) => [k, Buffer.from(v)])) };
}

export function emptyImage(): DiskImage {
  return { names: new Map(), inodes: new Map() };
}

/** An image holding `files` (path → contents), all durable. */
export function imageOf(files: Record<string, string | Buffer>): DiskImage {
  const img = emptyImage();
  let ino = 1;
  for (const [path, data] of Object.entries(files)) {
    img.names.set(path, ino);
    img.inodes.set(ino++, Buffer.from(data));
  }
  return img;
}

export class CrashDisk implements FileOps {
  readonly ops: Op[] = [];
  private readonly live: DiskImage;
  private readonly fds = new Map<number, number>();
  private nextFd = 100;
  private nextIno: number;

  constructor(readonly initial: DiskImage = emptyImage()) {
    this.live = cloneImage(initial);
    this.nextIno = Math.max(0, ...initial.inodes.keys()) + 1;
  }

  /** The writer acknowledged `value` (it is now promised durable). */
  mark(value: unknown): void {
    this.ops.push({ k: 'mark', value });
  }

  /** What the program sees now (every operation applied). */
  file(path: string): Buffer | undefined {
    const ino = this.live.names.get(path);
    return ino === undefined ? undefined : this.live.inodes.get(ino);
  }

  private ino(fd: number): number {
    const ino = this.fds.get(fd);
    if (ino === undefined) throw errno('EBADF', String(fd));
    return ino;
  }

  private create(path: string): number {
    const ino = this.nextIno++;
    this.ops.push({ k: 'create', path, ino });
    this.live.inodes.set(ino, Buffer.alloc(0));
    this.live.names.set(path, ino);
    return ino;
  }

  private fdFor(ino: number): number {
    const fd = this.nextFd++;
    this.fds.set(fd, ino);
    return fd;
  }

  openRw(path: string): number {
    return this.fdFor(this.live.names.get(path) ?? this.create(path));
  }

  openTrunc(path: string): number {
    const had = this.live.names.get(path);
    if (had === undefined) return this.fdFor(this.create(path));
    this.ops.push({ k: 'trunc', ino: had });
    this.live.inodes.set(had, Buffer.alloc(0));
    return this.fdFor(had);
  }

  pwrite(fd: number, data: Buffer, pos: number): void {
    const ino = this.ino(fd);
    this.ops.push({ k: 'write', ino, pos, data: Buffer.from(data) });
    this.live.inodes.set(ino, applyWrite(this.live.inodes.get(ino)!, pos, data));
  }

  fsync(fd: number): void {
    this.ops.push({ k: 'fsync', ino: this.ino(fd) });
  }

  fdatasync(fd: number): void {
    this.fsync(fd);
  }

  size(fd: number): number {
    return this.live.inodes.get(this.ino(fd))!.length;
  }

  close(fd: number): void {
    this.ino(fd);
    this.fds.delete(fd);
  }

  rename(from: string, to: string): void {
    const ino = this.live.names.get(from);
    if (ino === undefined) throw errno('ENOENT', from);
    this.ops.push({ k: 'rename', from, to });
    this.live.names.delete(from);
    this.live.names.set(to, ino);
  }

  unlink(path: string): void {
    if (!this.live.names.has(path)) throw errno('ENOENT', path);
    this.ops.push({ k: 'unlink', path });
    this.live.names.delete(path);
  }

  fsyncDir(dir: string): void {
    this.ops.push({ k: 'fsyncdir', dir });
  }

  readFile(path: string): Buffer {
    const b = this.file(path);
    if (b === undefined) throw errno('ENOENT', path);
    return Buffer.from(b);
  }
}

function applyWrite(old: Buffer, pos: number, data: Buffer): Buffer {
  const out = Buffer.alloc(Math.max(old.length, pos + data.length), 0);
  old.copy(out, 0);
  data.copy(out, pos);
  return out;
}

/** `data` written at `pos`, but only the sectors in `keep` (absolute sector numbers). */
function applySectors(old: Buffer, pos: number, data: Buffer, keep: (sector: number) => boolean): Buffer {
  let out = old;
  const end = pos + data.length;
  for (let s = Math.floor(pos / SECTOR); s * SECTOR < end; s++) {
    if (!keep(s)) continue;
    const from = Math.max(pos, s * SECTOR);
    const to = Math.min(end, (s + 1) * SECTOR);
    out = applyWrite(out, from, data.subarray(from - pos, to - pos));
  }
  return out;
}

export interface CrashState {
  /** Operations that completed before the power went. */
  at: number;
  image: DiskImage;
  /** Acknowledgements made before the crash, oldest first. */
  acked: unknown[];
  /** How the state was chosen (for failure messages). */
  how: string;
}

/** Choices for pending data writes: which persist, and at most one torn. */
function dataChoices(pending: number[], ops: Op[]): { keep: Set<number>; torn?: { op: number; sectors: (s: number) => boolean; label: string } }[] {
  const out: { keep: Set<number>; torn?: { op: number; sectors: (s: number) => boolean; label: string } }[] = [];
  if (pending.length <= 6) {
    for (let m = 0; m < 1 << pending.length; m++) out.push({ keep: new Set(pending.filter((_, i) => m & (1 << i))) });
  } else {
    out.push({ keep: new Set() }, { keep: new Set(pending) });
    for (const p of pending) out.push({ keep: new Set(pending.filter((q) => q !== p)) });
    for (let n = 1; n < pending.length; n++) out.push({ keep: new Set(pending.slice(0, n)) });
  }
  for (const p of pending) {
    const op = ops[p]!;
    if (op.k !== 'write') continue;
    const first = Math.floor(op.pos / SECTOR);
    const last = Math.floor((op.pos + op.data.length - 1) / SECTOR);
    for (let cut = first + 1; cut <= last; cut++) {
      for (const others of [new Set<number>(), new Set(pending.filter((q) => q !== p))]) {
        out.push({ keep: others, torn: { op: p, sectors: (s) => s < cut, label: `op ${p} torn: sectors before ${cut}` } });
        out.push({ keep: others, torn: { op: p, sectors: (s) => s >= cut, label: `op ${p} torn: sectors from ${cut}` } });
      }
    }
  }
  return out;
}

function imageKey(img: DiskImage): string {
  const h = createHash('sha256');
  for (const [name, ino] of [...img.names].sort(([a], [b]) => a.localeCompare(b))) h.update(`${name}\0`).update(img.inodes.get(ino)!).update('\0');
  return h.digest('hex');
}

/**
 * Every distinct crash state of `disk`'s recorded history (deduplicated by contents),
 * at most `limit` of them (the caller asserts how many it saw).
 */
export function crashStates(disk: CrashDisk, limit = 50_000): CrashState[] {
  const ops = disk.ops;
  const states: CrashState[] = [];
  const seen = new Set<string>();
  for (let at = 0; at <= ops.length; at++) {
    const before = ops.slice(0, at);
    const acked = before.filter((o): o is Extract<Op, { k: 'mark' }> => o.k === 'mark').map((o) => o.value);
    const durable = (i: number): boolean => {
      const o = before[i]!;
      if (isData(o)) return before.some((f, j) => j > i && f.k === 'fsync' && f.ino === o.ino);
      if (isName(o)) return before.some((f, j) => j > i && f.k === 'fsyncdir' && f.dir === dirOf(o));
      return true;
    };
    const nameOps = before.map((o, i) => (isName(o) ? i : -1)).filter((i) => i >= 0);
    const lastDurableName = Math.max(-1, ...nameOps.filter(durable).map((i) => nameOps.indexOf(i)));
    const pendingData = before.map((o, i) => (isData(o) && !durable(i) ? i : -1)).filter((i) => i >= 0);
    for (let names = lastDurableName + 1; names <= nameOps.length; names++) {
      const nameSet = new Set(nameOps.slice(0, names));
      for (const choice of dataChoices(pendingData, before)) {
        const img = cloneImage(disk.initial);
        before.forEach((o, i) => {
          if (isName(o)) {
            if (!nameSet.has(i)) return;
            if (o.k === 'create') {
              img.names.set(o.path, o.ino);
              if (!img.inodes.has(o.ino)) img.inodes.set(o.ino, Buffer.alloc(0));
            }
            else if (o.k === 'unlink') img.names.delete(o.path);
            else {
              const ino = img.names.get(o.from);
              img.names.delete(o.from);
              if (ino !== undefined) img.names.set(o.to, ino);
            }
            return;
          }
          if (!isData(o)) return;
          const old = img.inodes.get(o.ino) ?? Buffer.alloc(0);
          if (choice.torn?.op === i && o.k === 'write') img.inodes.set(o.ino, applySectors(old, o.pos, o.data, choice.torn.sectors));
          else if (durable(i) || choice.keep.has(i)) img.inodes.set(o.ino, o.k === 'trunc' ? Buffer.alloc(0) : applyWrite(old, o.pos, o.data));
          else img.inodes.set(o.ino, old);
        });
        const key = `${acked.length}:${imageKey(img)}`;
        if (seen.has(key)) continue;
        seen.add(key);
        states.push({ at, image: img, acked, how: `crash after ${at} ops, ${names}/${nameOps.length} name ops${choice.torn ? `, ${choice.torn.label}` : ''}, data kept: [${[...choice.keep].join(',')}]` });
        if (states.length > limit) throw new Error(`more than ${limit} crash states: make the scenario smaller`);
      }
    }
  }
  return states;
}

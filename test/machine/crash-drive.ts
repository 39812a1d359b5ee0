/**
 * The drive's side of a power cut (docs/machine.md, "The drive's side"): a block device
 * served to the guest over NBD by this test program, with the volatile write cache of an
 * SD card or a cheap SSD, in the way CrashMonkey and SQLite's crash-test VFS explore crash
 * states.
 *
 * - A write is acknowledged at once but is only *durable* after a FLUSH (or when it was
 *   sent with FUA). Until then it may or may not have reached the medium.
 * - `crash()` is the power cut seen by the medium: every write since the last flush is
 *   kept or lost at random (independently: the card may reorder its cache), except FUA
 *   writes, which were on the medium when acknowledged; and one of the pending writes is
 *   the write in flight, torn after a random whole number of 512-byte sectors. What
 *   remains is what the next boot reads.
 * - Reads see the newest data, as a real drive's cache serves them.
 *
 * The base is a raw image file that is never written: everything written lives in
 * memory (per 512-byte sector), so a run costs what the guest writes, not the disk's size.
 *
 * Protocol: NBD fixed newstyle handshake (NBD_OPT_GO or NBD_OPT_EXPORT_NAME; every other
 * option is answered "unsupported", which makes qemu fall back to simple replies), then
 * READ, WRITE (with FUA), FLUSH and DISC. Nothing else is advertised.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';

export const SECTOR = 512;

const NBDMAGIC = 0x4e42444d41474943n;
const IHAVEOPT = 0x49484156454f5054n;
const REPLY_MAGIC = 0x3e889045565a9n;
const REQUEST_MAGIC = 0x25609513;
const SIMPLE_REPLY_MAGIC = 0x67446698;

const OPT_EXPORT_NAME = 1;
const OPT_ABORT = 2;
const OPT_GO = 7;
const REP_ACK = 1;
const REP_INFO = 3;
const REP_ERR_UNSUP = 0x80000001;
const INFO_EXPORT = 0;

const FLAG_FIXED_NEWSTYLE = 1;
const FLAG_NO_ZEROES = 2;
/** Transmission flags: HAS_FLAGS | SEND_FLUSH | SEND_FUA. */
const TRANSMISSION_FLAGS = 1 | 4 | 8;

const CMD_READ = 0;
const CMD_WRITE = 1;
const CMD_DISC = 2;
const CMD_FLUSH = 3;
const CMD_FLAG_FUA = 1;
const EINVAL = 22;
const ENOTSUP = 95;

interface PendingWrite {
  sector: number;
  data: Buffer;
  fua: boolean;
}

export interface CrashState {
  /** Writes acknowledged since the last flush, when the power went. */
  pending: number;
  /** Of those, how many reached the medium whole (FUA writes always do). */
  kept: number;
  /** The write in flight: how many of its sectors reached the medium, of how many. */
  torn?: { sectors: number; of: number };
  flushesSoFar: number;
}

export class CrashDrive {
  /** What survives a power cut: base image + these sectors. */
  private readonly durable = new Map<number, Buffer>();
  /** Newest data of sectors written since the last flush (what reads see on top of durable). */
  private volatile = new Map<number, Buffer>();
  private pending: PendingWrite[] = [];
  private readonly fd: number;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  readonly size: number;
  flushes = 0;
  writes = 0;
  port = 0;

  constructor(readonly baseImage: string) {
    this.size = statSync(baseImage).size;
    if (this.size % SECTOR !== 0) throw new Error(`${baseImage}: size ${this.size} is not whole sectors`);
    this.fd = openSync(baseImage, 'r');
    this.server = createServer((s) => this.serve(s));
  }

  /** Listens on 127.0.0.1 only; returns the qemu -drive file= URL. */
  async listen(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', resolve);
    });
    this.port = (this.server.address() as { port: number }).port;
    return `nbd://127.0.0.1:${this.port}/disk`;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    closeSync(this.fd);
  }

  /** Writes acknowledged since the last flush that a cut could lose or tear (not FUA). */
  get unflushed(): number {
    return this.pending.filter((w) => !w.fua).length;
  }

  /** Set by `holdAtNextWrite`: requests are no longer served (the power is about to go). */
  held = false;
  private holdArmed = false;

  /**
   * After the next write that is not FUA, serve nothing more until `crash()`: requests that
   * arrive wait unanswered, as ones still in flight when the power goes. The cut that
   * follows then finds at least that write in the cache, whatever flush was on its way.
   */
  holdAtNextWrite(): void {
    this.holdArmed = true;
  }

  /**
   * The power cut, on the medium's side. Call it after the guest's qemu is dead (no more
   * requests can arrive). `rand` returns [0, 1).
   */
  crash(rand: () => number): CrashState {
    for (const s of this.sockets) s.destroy();
    const pending = this.pending;
    const candidates = pending.map((w, i) => ({ w, i })).filter(({ w }) => !w.fua && w.data.length > SECTOR);
    const inFlight = candidates.length > 0 ? candidates[Math.floor(rand() * candidates.length)]!.i : -1;
    let kept = 0;
    let torn: CrashState['torn'];
    pending.forEach((w, i) => {
      if (i === inFlight) {
        const of = w.data.length / SECTOR;
        const sectors = 1 + Math.floor(rand() * (of - 1));
        this.apply(this.durable, w.sector, w.data.subarray(0, sectors * SECTOR));
        torn = { sectors, of };
      } else if (w.fua || rand() < 0.5) {
        this.apply(this.durable, w.sector, w.data);
        kept += 1;
      }
    });
    this.pending = [];
    this.volatile = new Map();
    this.held = false;
    this.holdArmed = false;
    return { pending: pending.length, kept, torn, flushesSoFar: this.flushes };
  }

  private apply(map: Map<number, Buffer>, sector: number, data: Buffer): void {
    for (let o = 0; o < data.length; o += SECTOR) map.set(sector + o / SECTOR, data.subarray(o, o + SECTOR));
  }

  private read(offset: number, length: number): Buffer {
    const out = Buffer.alloc(length);
    readSync(this.fd, out, 0, length, offset);
    const first = offset / SECTOR;
    for (let i = 0; i < length / SECTOR; i++) {
      const s = this.volatile.get(first + i) ?? this.durable.get(first + i);
      if (s) s.copy(out, i * SECTOR);
    }
    return out;
  }

  private write(offset: number, data: Buffer, fua: boolean): void {
    const sector = offset / SECTOR;
    this.writes += 1;
    this.pending.push({ sector, data, fua });
    this.apply(this.volatile, sector, data);
    if (this.holdArmed && !fua) this.held = true;
  }

  private flush(): void {
    for (const [s, b] of this.volatile) this.durable.set(s, b);
    this.volatile = new Map();
    this.pending = [];
    this.flushes += 1;
  }

  private serve(sock: Socket): void {
    this.sockets.add(sock);
    sock.on('close', () => this.sockets.delete(sock));
    sock.on('error', () => sock.destroy());
    sock.setNoDelay(true);
    let buf: Buffer = Buffer.alloc(0);
    let phase: 'flags' | 'options' | 'transmission' = 'flags';
    const hello = Buffer.alloc(18);
    hello.writeBigUInt64BE(NBDMAGIC, 0);
    hello.writeBigUInt64BE(IHAVEOPT, 8);
    hello.writeUInt16BE(FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES, 16);
    sock.write(hello);
    let noZeroes = false;

    const optReply = (option: number, type: number, data = Buffer.alloc(0)): void => {
      const h = Buffer.alloc(20);
      h.writeBigUInt64BE(REPLY_MAGIC, 0);
      h.writeUInt32BE(option, 8);
      h.writeUInt32BE(type, 12);
      h.writeUInt32BE(data.length, 16);
      sock.write(Buffer.concat([h, data]));
    };
    const reply = (cookie: Buffer, error: number, data?: Buffer): void => {
      const h = Buffer.alloc(16);
      h.writeUInt32BE(SIMPLE_REPLY_MAGIC, 0);
      h.writeUInt32BE(error, 4);
      cookie.copy(h, 8);
      sock.write(data ? Buffer.concat([h, data]) : h);
    };

    // One step of the protocol on what has arrived; false when it needs more bytes.
    const step = (): boolean => {
      if (phase === 'flags') {
        if (buf.length < 4) return false;
        noZeroes = (buf.readUInt32BE(0) & FLAG_NO_ZEROES) !== 0;
        buf = buf.subarray(4);
        phase = 'options';
        return true;
      }
      if (phase === 'options') {
        if (buf.length < 16) return false;
        if (buf.readBigUInt64BE(0) !== IHAVEOPT) {
          sock.destroy();
          return false;
        }
        const option = buf.readUInt32BE(8);
        const len = buf.readUInt32BE(12);
        if (buf.length < 16 + len) return false;
        buf = buf.subarray(16 + len);
        if (option === OPT_EXPORT_NAME) {
          const info = Buffer.alloc(noZeroes ? 10 : 134);
          info.writeBigUInt64BE(BigInt(this.size), 0);
          info.writeUInt16BE(TRANSMISSION_FLAGS, 8);
          sock.write(info);
          phase = 'transmission';
        } else if (option === OPT_GO) {
          const info = Buffer.alloc(12);
          info.writeUInt16BE(INFO_EXPORT, 0);
          info.writeBigUInt64BE(BigInt(this.size), 2);
          info.writeUInt16BE(TRANSMISSION_FLAGS, 10);
          optReply(option, REP_INFO, info);
          optReply(option, REP_ACK);
          phase = 'transmission';
        } else if (option === OPT_ABORT) {
          optReply(option, REP_ACK);
          sock.end();
          return false;
        } else {
          optReply(option, REP_ERR_UNSUP);
        }
        return true;
      }
      if (buf.length < 28) return false;
      if (buf.readUInt32BE(0) !== REQUEST_MAGIC) {
        sock.destroy();
        return false;
      }
      const flags = buf.readUInt16BE(4);
      const type = buf.readUInt16BE(6);
      const cookie = Buffer.from(buf.subarray(8, 16));
      const offset = Number(buf.readBigUInt64BE(16));
      const length = buf.readUInt32BE(24);
      const bodyLen = type === CMD_WRITE ? length : 0;
      if (buf.length < 28 + bodyLen) return false;
      const body = Buffer.from(buf.subarray(28, 28 + bodyLen));
      buf = buf.subarray(28 + bodyLen);
      const inRange = offset % SECTOR === 0 && length % SECTOR === 0 && offset + length <= this.size;
      if (type === CMD_READ) {
        if (!inRange) reply(cookie, EINVAL);
        else reply(cookie, 0, this.read(offset, length));
      } else if (type === CMD_WRITE) {
        if (!inRange) reply(cookie, EINVAL);
        else {
          this.write(offset, body, (flags & CMD_FLAG_FUA) !== 0);
          reply(cookie, 0);
        }
      } else if (type === CMD_FLUSH) {
        this.flush();
        reply(cookie, 0);
      } else if (type === CMD_DISC) {
        sock.end();
        return false;
      } else {
        reply(cookie, ENOTSUP);
      }
      return true;
    };

    sock.on('data', (d: Buffer) => {
      buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
      while (!sock.destroyed && !this.held && step()) {
        /* each step consumed what it used */
      }
    });
  }
}

/**
 * The seq ledger: a second home for what must never go back (docs/field-notes.md#torn-wal-frames).
 *
 * SQLite can lose committed transactions without a word (a WAL whose frames fail their
 * checksums is ignored from the first bad frame on), and a database can be damaged,
 * deleted or replaced. `seq` must still never be reused. So seqs are reserved in
 * blocks, and the ceiling of every seq ever handed out lives here, in a small file
 * beside the database:
 *
 * - `reserve(upTo)`: before a seq >= `reserved` is handed out, the ceiling moves up by
 *   a whole block and the file is fsynced. One write per block, not per reading.
 * - The file has a fixed size and is rewritten in place, so it can still be written
 *   when the disk is full (no new blocks are allocated). It also carries loss ranges
 *   that could not be written to the full database yet (`pending`), so a crash while
 *   the disk is full still announces them after the restart.
 * - `clean` is true only between a clean close and the next open. A gateway that
 *   starts from an unclean ledger starts above `reserved`; the database tells how
 *   much of the skipped block was really used.
 *
 * Contract: every method is synchronous and either succeeds with the data on disk or
 * throws (the caller treats a throw like a failed commit: nothing new is accepted).
 */
import { closeSync, fdatasyncSync, fstatSync, openSync, readFileSync, writeSync, constants } from 'node:fs';
import { join } from 'node:path';
import { tightenFd } from './private-files.js';

export interface LossRange {
  first_seq: number;
  last_seq: number;
  reason: string;
}

export interface LedgerState {
  /** Every seq below this may have been handed out. */
  reserved: number;
  /** Lowest seq that may still have been waiting in the buffer when the ledger was last written. */
  floor: number;
  clean: boolean;
  /** Kernel boot id when last written (tells a process crash from a reboot). */
  boot?: string;
  /** Loss ranges not yet announced through the database. */
  pending: LossRange[];
}

const SIZE = 4096;
const MAX_PENDING = 48;
export const LEDGER_FILE = 'seq.ledger';

export class SeqLedger {
  readonly file: string;
  private fd: number | undefined;
  private st: LedgerState;
  /** What the file held when opened (undefined: there was none). */
  readonly found: LedgerState | undefined;

  constructor(
    dataDir: string,
    private readonly block = 1000,
    private readonly bootId = 'unknown',
  ) {
    this.file = join(dataDir, LEDGER_FILE);
    this.found = readLedger(this.file);
    this.st = this.found ? { ...this.found, pending: [...this.found.pending] } : { reserved: 1, floor: 1, clean: false, pending: [] };
  }

  get state(): Readonly<LedgerState> {
    return this.st;
  }

  /** Open for writing and mark the ledger in use (not clean). */
  open(): void {
    this.fd = openSync(this.file, constants.O_RDWR | constants.O_CREAT, 0o600);
    tightenFd(this.fd);
    if (fstatSync(this.fd).size < SIZE) {
      // Allocate the whole file once, while there is room: later writes are in place.
      writeSync(this.fd, Buffer.alloc(SIZE, 0x20), 0, SIZE, 0);
    }
    this.st.clean = false;
    this.write();
  }

  /**
   * Make sure every seq below `upTo` is covered by the ceiling. When it moves, it moves
   * `ahead` seqs past `upTo` (at least a block): the caller sizes that to about a
   * second of readings, so a crash skips (and announces) little, and the file is
   * written about once a second at most.
   */
  reserve(upTo: number, floor: number, ahead = this.block): void {
    if (upTo <= this.st.reserved) return;
    this.st.reserved = upTo + Math.max(this.block, ahead);
    this.st.floor = floor;
    this.write();
  }

  /** Keep a loss range that the database could not take (disk full); merged with a neighbour. */
  addPending(r: LossRange): void {
    const last = this.st.pending[this.st.pending.length - 1];
    if (last && last.reason === r.reason && last.last_seq + 1 === r.first_seq) last.last_seq = r.last_seq;
    else this.st.pending.push({ ...r });
    while (this.st.pending.length > MAX_PENDING) {
      // Never forget a range: fold the two oldest into one (a wider announcement, never a gap).
      const [a, b] = this.st.pending.splice(0, 2) as [LossRange, LossRange];
      this.st.pending.unshift({ first_seq: Math.min(a.first_seq, b.first_seq), last_seq: Math.max(a.last_seq, b.last_seq), reason: a.reason });
    }
    this.write();
  }

  /** The pending ranges were written to the database: forget them here. */
  clearPending(): void {
    if (this.st.pending.length === 0) return;
    this.st.pending = [];
    this.write();
  }

  /** Clean close: the ceiling becomes exact, so the next start skips nothing. */
  close(nextSeq: number, floor: number): void {
    if (this.fd === undefined) return;
    this.st.reserved = nextSeq;
    this.st.floor = floor;
    this.st.clean = true;
    try {
      this.write();
    } finally {
      closeSync(this.fd);
      this.fd = undefined;
    }
  }

  /** Close without marking clean (a failed start). */
  abandon(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private write(): void {
    if (this.fd === undefined) return;
    const text = JSON.stringify({ v: 1, ...this.st, boot: this.bootId });
    const buf = Buffer.alloc(SIZE, 0x20);
    buf.write(text, 0, 'utf8');
    buf[SIZE - 1] = 0x0a;
    writeSync(this.fd, buf, 0, SIZE, 0);
    fdatasyncSync(this.fd);
  }
}

/** The ledger in a data dir, if there is a readable one (read-only use: `queue`, doctor). */
export function readLedger(file: string): LedgerState | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
  try {
    const j = JSON.parse(text) as Partial<LedgerState> & { v?: number };
    if (typeof j.reserved !== 'number' || j.reserved < 1) return undefined;
    return {
      reserved: j.reserved,
      floor: typeof j.floor === 'number' ? j.floor : 1,
      clean: j.clean === true,
      ...(typeof j.boot === 'string' ? { boot: j.boot } : {}),
      pending: Array.isArray(j.pending) ? j.pending.filter((p) => typeof p?.first_seq === 'number' && typeof p.last_seq === 'number') : [],
    };
  } catch {
    return undefined;
  }
}

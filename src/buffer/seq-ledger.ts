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
 *   a whole block and the record is written and fdatasynced. One write per block, not
 *   per reading.
 * - Two copies (ledger-format.ts): each write goes to the slot not holding the newest
 *   record, with the next generation and a SHA-256, so a write torn by a power cut
 *   leaves the previous record whole. The file has a fixed size and is rewritten in
 *   place, so it can still be written when the disk is full. It also carries loss
 *   ranges that could not be written to the full database yet (`pending`), so a crash
 *   while the disk is full still announces them after the restart.
 * - The file is created (and a format 1 file upgraded) whole under a temporary name
 *   and renamed into place: it is either absent or holds a valid record.
 * - `clean` is true only between a clean close and the next open. A gateway that
 *   starts from an unclean ledger starts above `reserved`; the database tells how
 *   much of the skipped block was really used.
 * - A file with no readable copy is `damaged`: the buffer then starts `lostWindow`
 *   above what the database holds and announces that range (startup.ts).
 *
 * Contract: every method is synchronous and either succeeds with the data on disk or
 * throws (the caller treats a throw like a failed commit: nothing new is accepted).
 */
import { join } from 'node:path';
import { nodeFileOps, writeFileAtomic, type FileOps } from '../core/durable-file.js';
import { FILE_SIZE, SLOT_SIZE, decodeLedger, encodeSlot, type LedgerRead, type LedgerState, type LossRange } from './ledger-format.js';

export type { LedgerState, LossRange } from './ledger-format.js';

const MAX_PENDING = 48;
/** Most seqs reserved past the ones being handed out (the window a damaged ledger costs). */
export const MAX_AHEAD = 100_000;
export const LEDGER_FILE = 'seq.ledger';

export class SeqLedger {
  readonly file: string;
  private fd: number | undefined;
  private st: LedgerState;
  private gen: number;
  /** Slot holding the newest record (the next write goes to the other one). */
  private slot: 0 | 1;
  /** What the file held when opened. */
  readonly read: LedgerRead;

  constructor(
    dataDir: string,
    private readonly block = 1000,
    private readonly bootId = 'unknown',
    private readonly ops: FileOps = nodeFileOps,
  ) {
    this.file = join(dataDir, LEDGER_FILE);
    this.read = inspectLedger(this.file, ops);
    const found = this.found;
    this.st = found ? { ...found, pending: found.pending.map((p) => ({ ...p })) } : { reserved: 1, floor: 1, clean: false, pending: [] };
    this.gen = this.read.status === 'ok' ? this.read.gen : 0;
    this.slot = this.read.status === 'ok' && this.read.format === 2 ? this.read.slot : 1;
  }

  /** What the file held when opened (undefined: there was none, or none could be read). */
  get found(): LedgerState | undefined {
    return this.read.status === 'ok' ? this.read.state : undefined;
  }

  /** Why the file could not be read, if it was there and unreadable. */
  get damaged(): string | undefined {
    return this.read.status === 'damaged' ? this.read.detail : undefined;
  }

  /** How far above the database's next seq to start when the file is damaged. */
  get lostWindow(): number {
    return Math.max(this.block, MAX_AHEAD);
  }

  get state(): Readonly<LedgerState> {
    return this.st;
  }

  /** Open for writing and mark the ledger in use (not clean). */
  open(): void {
    this.st.clean = false;
    if (!(this.read.status === 'ok' && this.read.format === 2)) {
      // New, format 1 or damaged: write a whole format 2 file beside it and rename it in.
      this.gen += 1;
      this.slot = 0;
      const bytes = Buffer.alloc(FILE_SIZE, 0);
      this.encode().copy(bytes, 0);
      writeFileAtomic(this.file, bytes, { mode: 0o600, ops: this.ops });
      this.fd = this.ops.openRw(this.file, 0o600);
      return;
    }
    this.fd = this.ops.openRw(this.file, 0o600);
    this.write();
  }

  /**
   * Make sure every seq below `upTo` is covered by the ceiling. When it moves, it moves
   * `ahead` seqs past `upTo` (at least a block, at most MAX_AHEAD): the caller sizes that
   * to about a second of readings, so a crash skips (and announces) little, and the file
   * is written about once a second at most.
   */
  reserve(upTo: number, floor: number, ahead = this.block): void {
    if (upTo <= this.st.reserved) return;
    this.st.reserved = upTo + Math.max(this.block, Math.min(ahead, MAX_AHEAD));
    this.st.floor = floor;
    this.write();
  }

  /** Keep a loss range that the database could not take (disk full); merged with a neighbour. */
  addPending(r: LossRange): void {
    const last = this.st.pending[this.st.pending.length - 1];
    if (last && last.reason === r.reason && last.last_seq + 1 === r.first_seq) last.last_seq = r.last_seq;
    else this.st.pending.push({ ...r });
    while (this.st.pending.length > MAX_PENDING) this.foldOldest();
    this.write();
  }

  /** Never forget a range: fold the two oldest into one (a wider announcement, never a gap). */
  private foldOldest(): void {
    const [a, b] = this.st.pending.splice(0, 2) as [LossRange, LossRange];
    this.st.pending.unshift({ first_seq: Math.min(a.first_seq, b.first_seq), last_seq: Math.max(a.last_seq, b.last_seq), reason: a.reason });
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
      this.ops.close(this.fd);
      this.fd = undefined;
    }
  }

  /** Close without marking clean (a failed start). */
  abandon(): void {
    if (this.fd !== undefined) this.ops.close(this.fd);
    this.fd = undefined;
  }

  private encode(): Buffer {
    // Very long seqs in many ranges could outgrow a slot: fold until the record fits.
    for (let i = 0; i < MAX_PENDING; i++) {
      try {
        return encodeSlot(this.st, this.gen, this.bootId);
      } catch (err) {
        if (this.st.pending.length < 2) throw err;
        this.foldOldest();
      }
    }
    return encodeSlot(this.st, this.gen, this.bootId);
  }

  private write(): void {
    if (this.fd === undefined) return;
    this.gen += 1;
    const slot: 0 | 1 = this.slot === 0 ? 1 : 0;
    this.ops.pwrite(this.fd, this.encode(), slot * SLOT_SIZE);
    this.ops.fdatasync(this.fd);
    this.slot = slot;
  }
}

/** Everything the file tells, read through `ops` (an unreadable file is `damaged`, never "none"). */
export function inspectLedger(file: string, ops: FileOps = nodeFileOps): LedgerRead {
  let bytes: Buffer;
  try {
    bytes = ops.readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { status: 'none' };
    return { status: 'damaged', detail: `cannot be read (${code ?? String(err)})` };
  }
  return decodeLedger(bytes);
}

/** The ledger in a data dir, if there is a readable one (read-only use: `queue`, doctor). */
export function readLedger(file: string): LedgerState | undefined {
  const r = inspectLedger(file);
  return r.status === 'ok' ? r.state : undefined;
}

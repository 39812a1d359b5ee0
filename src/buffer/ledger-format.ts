/**
 * The bytes of `seq.ledger` (docs/architecture.md#the-seq-ledger-on-disk).
 *
 * Format 2, 8192 bytes: two slots of 4096 bytes (A at 0, B at 4096), each a whole
 * number of 512-byte sectors, so a write torn by a power cut damages one slot only.
 * A slot:
 *
 *   0   8  magic "CGLEDG2\n"
 *   8   8  generation, unsigned big-endian (one more than the newest slot's)
 *   16  4  payload length, unsigned big-endian (at most 4044)
 *   20 32  SHA-256 of bytes 0..20 followed by the payload
 *   52  …  payload: UTF-8 JSON {v:2, reserved, floor, clean, boot, pending}
 *   …      zeros to the end of the slot
 *
 * The valid slot with the higher generation wins. Format 1 (before 2026-12) was one
 * 4096-byte block of JSON padded with spaces, rewritten in place; it is still read, and
 * the first open rewrites it as format 2 (tmp file + rename, so the upgrade is atomic).
 * Pure functions: no I/O here.
 */
import { createHash } from 'node:crypto';

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

export const SLOT_SIZE = 4096;
export const FILE_SIZE = 2 * SLOT_SIZE;
const MAGIC = Buffer.from('CGLEDG2\n', 'latin1');
const HEAD = 52;
export const MAX_PAYLOAD = SLOT_SIZE - HEAD;

/** What a ledger file holds, as far as it can be read. */
export type LedgerRead =
  | { status: 'none' }
  | { status: 'ok'; format: 1 | 2; state: LedgerState; gen: number; slot: 0 | 1 }
  | { status: 'damaged'; detail: string };

const digest = (head: Buffer, payload: Buffer): Buffer => createHash('sha256').update(head).update(payload).digest();

/** One slot's bytes for `state` at generation `gen`; throws if the payload does not fit. */
export function encodeSlot(state: LedgerState, gen: number, bootId: string): Buffer {
  const payload = Buffer.from(JSON.stringify({ v: 2, ...state, boot: bootId }), 'utf8');
  if (payload.length > MAX_PAYLOAD) throw new Error(`seq ledger record of ${payload.length} bytes does not fit a ${SLOT_SIZE}-byte slot`);
  const slot = Buffer.alloc(SLOT_SIZE, 0);
  MAGIC.copy(slot, 0);
  slot.writeBigUInt64BE(BigInt(gen), 8);
  slot.writeUInt32BE(payload.length, 16);
  digest(slot.subarray(0, 20), payload).copy(slot, 20);
  payload.copy(slot, HEAD);
  return slot;
}

/** The record in one slot, or undefined if the slot is not a whole, checksummed record. */
export function decodeSlot(slot: Buffer): { gen: number; state: LedgerState } | undefined {
  if (slot.length < HEAD || !slot.subarray(0, 8).equals(MAGIC)) return undefined;
  const len = slot.readUInt32BE(16);
  if (len > MAX_PAYLOAD || HEAD + len > slot.length) return undefined;
  const payload = slot.subarray(HEAD, HEAD + len);
  if (!digest(slot.subarray(0, 20), payload).equals(slot.subarray(20, HEAD))) return undefined;
  const gen = Number(slot.readBigUInt64BE(8));
  const state = stateOf(payload.toString('utf8'));
  return state && Number.isSafeInteger(gen) ? { gen, state } : undefined;
}

function stateOf(text: string): LedgerState | undefined {
  try {
    const j = JSON.parse(text) as Partial<LedgerState>;
    if (typeof j.reserved !== 'number' || !Number.isSafeInteger(j.reserved) || j.reserved < 1) return undefined;
    return {
      reserved: j.reserved,
      floor: typeof j.floor === 'number' ? j.floor : 1,
      clean: j.clean === true,
      ...(typeof j.boot === 'string' ? { boot: j.boot } : {}),
      pending: Array.isArray(j.pending) ? j.pending.filter((p) => typeof p?.first_seq === 'number' && typeof p.last_seq === 'number').map((p) => ({ first_seq: p.first_seq, last_seq: p.last_seq, reason: String(p.reason) })) : [],
    };
  } catch {
    return undefined;
  }
}

/** Read a whole ledger file's bytes (`undefined`: there is no file). */
export function decodeLedger(bytes: Buffer | undefined): LedgerRead {
  if (bytes === undefined) return { status: 'none' };
  const a = decodeSlot(bytes.subarray(0, SLOT_SIZE));
  const b = bytes.length >= FILE_SIZE ? decodeSlot(bytes.subarray(SLOT_SIZE, FILE_SIZE)) : undefined;
  if (a || b) {
    const slot: 0 | 1 = a && (!b || a.gen > b.gen) ? 0 : 1;
    const best = (slot === 0 ? a : b)!;
    return { status: 'ok', format: 2, state: best.state, gen: best.gen, slot };
  }
  const text = bytes.subarray(0, SLOT_SIZE).toString('utf8').trim();
  // Format 1 created its file, then filled it: a power cut in between left it empty or blank.
  // Format 2 never leaves such a file (it is created whole, under a temporary name).
  if (text === '') return { status: 'none' };
  const v1 = stateOf(text);
  if (v1) return { status: 'ok', format: 1, state: v1, gen: 0, slot: 0 };
  return { status: 'damaged', detail: `neither copy in ${bytes.length} bytes is a whole record (torn write or damaged card)` };
}

/**
 * Where seq starts after an open, and what must be announced about the seqs before it.
 *
 * The database says what it holds (`dbNext`: one past its newest seq); the ledger
 * (seq-ledger.ts) says what may have been handed out (`reserved`). When they disagree,
 * seq restarts at the ledger's ceiling, so it is never reused, and the gap is
 * announced as `buffer_lost`:
 *
 * | situation                                              | reason            | range announced      |
 * | ------------------------------------------------------ | ----------------- | -------------------- |
 * | clean ledger, database agrees                          | —                 | nothing              |
 * | crash, WAL intact, synchronous=full or the same boot   | —                 | nothing (*)          |
 * | crash after a reboot with synchronous=normal           | unclean_shutdown  | dbNext … reserved−1  |
 * | WAL damaged (frames lost after a bad one: wal-check.ts) | database_damaged  | dbNext … reserved−1  |
 * | clean ledger, database behind it (an old copy put back) | database_behind   | dbNext … reserved−1  |
 * | database file missing                                  | database_missing  | floor … reserved−1   |
 * | database moved aside (damaged, foreign)                | database_damaged  | floor … reserved−1   |
 * | seq.ledger there but no copy readable (both torn/damaged) | ledger_damaged  | dbNext … dbNext+window−1 |
 *
 * (*) The database holds every committed transaction: a process crash leaves the WAL
 * in the page cache, and with synchronous=full a power cut keeps every commit on a
 * card that honours flush. Seqs reserved but never used are simply used now.
 *
 * A damaged ledger (a file is there, neither of its two copies is whole: seq-ledger.ts)
 * is never taken for "no ledger": the ceiling it held is unknown, but it was at most one
 * reservation window (`ledgerWindow`) above the last seq handed out, so seq restarts that
 * far above the database and the whole window is announced. Skipping forward costs a
 * gap that consumers see explained; starting at the database could reuse a seq.
 */
import type { LostReason } from '../core/payloads.js';
import type { LedgerState } from './seq-ledger.js';

export interface StartInput {
  dbNext: number;
  ledger: LedgerState | undefined;
  dbExisted: boolean;
  replaced: boolean;
  walDamaged: boolean;
  /** The ledger was last written during this boot (the process crashed, not the machine). */
  sameBoot: boolean;
  synchronous: 'full' | 'normal';
  /** Set when seq.ledger exists but cannot be read: the most it could have been ahead. */
  ledgerDamagedWindow?: number;
}

export interface StartDecision {
  nextSeq: number;
  lost?: { reason: LostReason; first_seq: number; last_seq: number };
}

export function decideStart(i: StartInput): StartDecision {
  const l = i.ledger;
  if (!l && i.ledgerDamagedWindow !== undefined) {
    const last = i.dbNext + i.ledgerDamagedWindow - 1;
    return { nextSeq: last + 1, lost: { reason: 'ledger_damaged', first_seq: i.dbNext, last_seq: last } };
  }
  if (!l || l.reserved <= i.dbNext) return { nextSeq: i.dbNext };
  const last = l.reserved - 1;
  const jump = (reason: LostReason, first: number): StartDecision => ({ nextSeq: l.reserved, lost: { reason, first_seq: Math.min(first, last), last_seq: last } });
  if (i.replaced) return jump('database_damaged', l.floor);
  if (!i.dbExisted) return jump('database_missing', l.floor);
  if (i.walDamaged) return jump('database_damaged', i.dbNext);
  if (l.clean) return jump('database_behind', i.dbNext);
  if (i.synchronous === 'full' || i.sameBoot) return { nextSeq: i.dbNext };
  return jump('unclean_shutdown', i.dbNext);
}

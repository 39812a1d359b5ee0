/**
 * Where seq starts after an open, and what must be announced about the seqs before it.
 *
 * The database says what it holds (`dbNext`: one past its newest seq); the ledger
 * (seq-ledger.ts) says what may have been handed out (`reserved`). seq restarts at
 * the larger, so it is never reused, and a gap between them is announced as
 * `buffer_lost`:
 *
 * | situation                                           | reason            | range announced      |
 * | --------------------------------------------------- | ----------------- | -------------------- |
 * | clean ledger, database agrees                       | —                 | nothing              |
 * | unclean ledger (crash), database within a block     | unclean_shutdown  | dbNext … reserved−1  |
 * | database further behind than a block (WAL damaged)  | database_behind   | dbNext … reserved−1  |
 * | database file missing                               | database_missing  | floor … reserved−1   |
 * | database moved aside (damaged, foreign)             | database_damaged  | floor … reserved−1   |
 *
 * After a crash the skipped range is usually seqs that were reserved and never used:
 * nothing was lost, but the gateway cannot prove it, so it says so.
 */
import type { LostReason } from '../uplink/topics.js';
import type { LedgerState } from './seq-ledger.js';

export interface StartInput {
  dbNext: number;
  ledger: LedgerState | undefined;
  dbExisted: boolean;
  replaced: boolean;
  /** Largest number of seqs one reservation may run ahead of use. */
  slack: number;
}

export interface StartDecision {
  nextSeq: number;
  lost?: { reason: LostReason; first_seq: number; last_seq: number };
}

export function decideStart(i: StartInput): StartDecision {
  const l = i.ledger;
  if (!l) return { nextSeq: i.dbNext };
  const nextSeq = Math.max(i.dbNext, l.reserved);
  if (l.reserved <= i.dbNext) return { nextSeq };
  const last = l.reserved - 1;
  if (i.replaced) return { nextSeq, lost: { reason: 'database_damaged', first_seq: Math.min(l.floor, last), last_seq: last } };
  if (!i.dbExisted) return { nextSeq, lost: { reason: 'database_missing', first_seq: Math.min(l.floor, last), last_seq: last } };
  const behind = l.clean || i.dbNext < l.reserved - i.slack;
  return { nextSeq, lost: { reason: behind ? 'database_behind' : 'unclean_shutdown', first_seq: i.dbNext, last_seq: last } };
}

/**
 * What an open found lost, counted and announced; what is lost is startup.ts's to
 * decide. Called once by the constructor, after the ledger reserved the start:
 *
 * - ranges skipped while the disk was full wait in the ledger (`pending`), counted
 *   only in the memory of the process that skipped them: counted again now, and
 *   announced as `buffer_dropped`;
 * - a range startup.ts decided lost is added to `lost_total` and announced as
 *   `buffer_lost`, saying what happened (the ledger damaged, the database moved
 *   aside, the WAL damaged).
 */
import type { LossRange, SeqLedger } from './seq-ledger.js';
import { LEDGER_FILE } from './seq-ledger.js';
import type { StartDecision } from './startup.js';
import type { RowStore } from './row-store.js';
import { announceLoss, isDropReason } from './drops.js';

export interface StartLosses {
  pending: readonly LossRange[];
  start: StartDecision;
  ledger: SeqLedger;
  /** The database was moved aside at open: why and where. */
  replaced: { detail: string; movedTo: string } | undefined;
  walDamaged: boolean;
}

export function announceStartLosses(rows: RowStore, s: StartLosses): void {
  for (const p of s.pending) {
    // Counted in memory only when the disk was full: count them now, then announce.
    if (isDropReason(p.reason)) rows.t.countDrop(p.reason, p.last_seq - p.first_seq + 1);
    announceLoss(rows, p.first_seq, p.last_seq, p.reason);
  }
  if (s.start.lost) {
    const { first_seq, last_seq, reason } = s.start.lost;
    rows.t.lostTotal += last_seq - first_seq + 1;
    rows.writeMeta('lost_total', rows.t.lostTotal);
    const detail =
      reason === 'ledger_damaged'
        ? `${LEDGER_FILE} ${s.ledger.damaged ?? 'could not be read'}: seq skips the most the ledger could have been ahead of the database, so none is reused (most of this range was never handed out)`
        : (s.replaced?.detail ?? (s.walDamaged ? 'the WAL was damaged: committed transactions after the damage are gone' : undefined));
    rows.events.emit({
      type: 'buffer_lost',
      reason,
      first_seq,
      last_seq,
      count: last_seq - first_seq + 1,
      ...(detail ? { detail } : {}),
      ...(s.replaced ? { moved_to: s.replaced.movedTo } : {}),
    });
  }
}

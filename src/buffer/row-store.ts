/**
 * The stored rows and what is counted about them: the `batches` and `meta` tables,
 * the next seq, and the counters (tally.ts). Shared by the commit, the acks, the
 * drops and the purge (sqlite-buffer.ts, drops.ts).
 *
 * Its writes go inside the caller's transaction and never open one: where a
 * transaction begins and ends, and when its Tally is applied to `t`, is the caller's
 * to say. `meta.next_seq` is written only by a transaction that deletes the newest row
 * and inserts none: a delete marks it due (`seqMetaDue`), `settleSeqMeta` writes it.
 */
import type Database from 'better-sqlite3';
import type { prepareStatements } from './sqlite-schema.js';
import type { EventJournal } from './event-journal.js';
import { Tally, type RowGone } from './tally.js';

export type Statements = ReturnType<typeof prepareStatements>;

export class RowStore {
  /** The seq the next accepted reading gets. */
  nextSeq = 1;
  /** The counters as committed: only an applied delta changes them. */
  readonly t = new Tally();

  constructor(
    readonly db: Database.Database,
    readonly stmt: Statements,
    readonly events: EventJournal,
  ) {}

  /** `quiet`: a failure (disk full) is let go; the next write stores the value. */
  writeMeta(key: string, value: number, quiet = false): void {
    if (!quiet) return void this.stmt.setMeta.run(key, value);
    try {
      this.stmt.setMeta.run(key, value);
    } catch {
      // disk full: the event carries the total; the next write stores it
    }
  }

  /** Inside a transaction that inserts nothing: write next_seq down if the newest row went. */
  settleSeqMeta(delta: Tally): void {
    if (delta.seqMetaDue) this.writeMeta('next_seq', this.nextSeq);
    delta.seqMetaDue = false;
  }

  /** Delete rows by id inside a transaction; marks next_seq due when the newest goes (settleSeqMeta). */
  deleteRows(ids: readonly number[], delta: Tally): RowGone {
    const gone: RowGone = { readings: 0 };
    let newestGone = false;
    for (const id of ids) {
      const row = this.stmt.deleteOne.get(id) as { count: number; bytes: number; first_seq: number; last_seq: number } | undefined;
      if (!row) continue;
      delta.add({ rows: -1, readings: -row.count, bytes: -row.bytes });
      gone.readings += row.count;
      gone.firstSeq = Math.min(gone.firstSeq ?? row.first_seq, row.first_seq);
      gone.lastSeq = Math.max(gone.lastSeq ?? row.last_seq, row.last_seq);
      if (row.last_seq === this.nextSeq - 1) newestGone = true;
    }
    if (newestGone) delta.seqMetaDue = true;
    return gone;
  }

  /** The drop counters as they will be once `delta` is applied. */
  writeDropCounters(delta: Tally): void {
    this.writeMeta('dropped_total', this.t.droppedTotal + delta.droppedTotal);
    for (const [reason, n] of Object.entries(delta.droppedBy)) this.writeMeta(`dropped_${reason}`, (this.t.droppedBy[reason] ?? 0) + n);
  }

  /** Lowest seq that may still be waiting (for the ledger). */
  floor(): number {
    const row = this.stmt.oldestFirstSeq.get() as { first_seq: number } | undefined;
    return row?.first_seq ?? this.nextSeq;
  }

  /** Counters from disk; returns the database's own next seq. */
  loadCounters(): number {
    const agg = this.stmt.aggregate.get() as { rows: number; readings: number | null; bytes: number | null; last: number | null };
    const meta = (key: string): number => (this.stmt.getMeta.get(key) as { value: number } | undefined)?.value ?? 0;
    this.t.load({
      rows: agg.rows,
      readings: agg.readings ?? 0,
      bytes: agg.bytes ?? 0,
      droppedTotal: meta('dropped_total'),
      droppedBy: { max_bytes: meta('dropped_max_bytes'), max_age: meta('dropped_max_age'), disk_full: meta('dropped_disk_full') },
      rejectedTotal: meta('rejected_total'),
      lostTotal: meta('lost_total'),
    });
    return Math.max(meta('next_seq'), (agg.last ?? 0) + 1, 1);
  }
}

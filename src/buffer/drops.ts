/**
 * Readings that go without being delivered, and how each loss is announced. Loss is
 * never silent:
 *
 * - a limit (`max_bytes`, `max_age`, the disk) drops the oldest rows inside the
 *   caller's transaction (`dropOldest`), with one `buffer_dropped` event per
 *   contiguous seq run, written in the same transaction;
 * - seqs handed out without a row (skipped while the disk failed, or lost at open)
 *   are counted and announced as `buffer_dropped` or `buffer_lost` (`announceLoss`);
 * - an operator's purge deletes rows in chunks, one transaction each, and is
 *   recorded as one `buffer_purged` event naming what went (`purgeRows`).
 */
import type { DropReason } from '../core/payloads.js';
import { Tally } from './tally.js';
import type { RowStore } from './row-store.js';

/** Most separate ranges one drop announces (beyond, the last range spans the rest, as before). */
const MAX_DROP_RUNS = 32;

export const isDropReason = (r: string): r is DropReason => r === 'max_bytes' || r === 'max_age' || r === 'disk_full';

/**
 * Delete oldest rows (until `needBytes` are freed, or older than `olderThan`); announces
 * the ranges. One event per contiguous seq run: rows acknowledged out of order (the
 * uplink's live lane delivers newer rows before older ones) leave holes of delivered
 * seqs that a single first..last range would report as dropped.
 */
export function dropOldest(rows: RowStore, needBytes: number, reason: DropReason, delta: Tally, olderThan?: number): number {
  let freed = 0;
  let dropped = 0;
  const runs: { first: number; last: number; count: number }[] = [];
  let lastId: number | undefined;
  let after = 0;
  for (let done = false; !done; ) {
    const batch = rows.stmt.oldestAfter.all(after, 500) as { id: number; first_seq: number; last_seq: number; count: number; bytes: number; committed_at: number }[];
    for (const row of batch) {
      if (olderThan !== undefined ? row.committed_at >= olderThan : freed >= needBytes) {
        done = true;
        break;
      }
      const run = runs[runs.length - 1];
      if (run && (row.first_seq === run.last + 1 || runs.length >= MAX_DROP_RUNS)) {
        run.last = row.last_seq;
        run.count += row.count;
      } else runs.push({ first: row.first_seq, last: row.last_seq, count: row.count });
      lastId = after = row.id;
      freed += row.bytes;
      dropped += row.count;
      delta.add({ rows: -1, readings: -row.count, bytes: -row.bytes });
    }
    if (batch.length < 500) done = true;
  }
  if (lastId === undefined || runs.length === 0) return 0;
  rows.stmt.deleteUpTo.run(lastId);
  delta.droppedUpToId = lastId;
  delta.countDrop(reason, dropped);
  delta.seqMetaDue = true;
  rows.writeDropCounters(delta);
  let total = rows.t.droppedTotal + delta.droppedTotal - dropped;
  for (const r of runs) {
    total += r.count;
    rows.events.write({ type: 'buffer_dropped', reason, first_seq: r.first, last_seq: r.last, count: r.count, dropped_total: total });
  }
  return dropped;
}

/** Announce seqs first..last that have no row; a drop must already be counted in `rows.t`. */
export function announceLoss(rows: RowStore, first: number, last: number, reason: string): void {
  const count = last - first + 1;
  if (isDropReason(reason)) {
    try {
      rows.db.transaction(() => rows.writeDropCounters(Tally.drop(reason, 0))).immediate();
    } catch {
      // counted in memory; written with the next successful drop
    }
    rows.events.emit({ type: 'buffer_dropped', reason, first_seq: first, last_seq: last, count, dropped_total: rows.t.droppedTotal });
  } else {
    rows.events.emit({ type: 'buffer_lost', reason: reason as 'unclean_shutdown', first_seq: first, last_seq: last, count });
  }
}

/**
 * Delete buffered readings (all, or one device's) in chunks, yielding between
 * chunks. Recorded as an event naming what went: deliberate loss is never silent.
 */
export async function purgeRows(rows: RowStore, opts: { device?: string; chunk?: number; onProgress?: (done: number) => void } = {}): Promise<number> {
  const chunk = opts.chunk ?? 5000;
  const select = opts.device
    ? rows.db.prepare('SELECT id FROM batches WHERE device = ? ORDER BY id LIMIT ?').pluck()
    : rows.db.prepare('SELECT id FROM batches ORDER BY id LIMIT ?').pluck();
  let done = 0;
  let first: number | undefined;
  let last: number | undefined;
  for (;;) {
    const ids = (opts.device ? select.all(opts.device, chunk) : select.all(chunk)) as number[];
    if (ids.length === 0) break;
    const delta = new Tally();
    const gone = rows.db
      .transaction(() => {
        const g = rows.deleteRows(ids, delta);
        rows.settleSeqMeta(delta);
        return g;
      })
      .immediate();
    rows.t.apply(delta);
    done += gone.readings;
    if (gone.firstSeq !== undefined) first = Math.min(first ?? gone.firstSeq, gone.firstSeq);
    if (gone.lastSeq !== undefined) last = Math.max(last ?? gone.lastSeq, gone.lastSeq);
    opts.onProgress?.(done);
    await new Promise((r) => setImmediate(r));
  }
  if (done > 0 && first !== undefined && last !== undefined) {
    rows.events.emit({ type: 'buffer_purged', first_seq: first, last_seq: last, count: done, ...(opts.device ? { device: opts.device } : {}) });
    rows.db.pragma('incremental_vacuum');
  }
  return done;
}

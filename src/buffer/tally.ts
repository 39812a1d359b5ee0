/**
 * The buffer's counters, and the changes one transaction makes to them. A transaction
 * fills a fresh Tally; only after it commits is that delta applied, so a rolled-back
 * transaction (disk full) can never leave a counter saying what the disk does not.
 */
export interface RowGone {
  readings: number;
  firstSeq?: number;
  lastSeq?: number;
}

export class Tally {
  /** The transaction deleted the newest row: `next_seq` must be written unless it also inserts. */
  seqMetaDue = false;
  rows = 0;
  readings = 0;
  bytes = 0;
  droppedTotal = 0;
  droppedBy: Record<string, number> = {};
  rejectedTotal = 0;
  lostTotal = 0;
  /** Readings accepted since this process started, by quality (not kept on disk). */
  acceptedBy: Record<string, number> = {};
  /** Rows up to this id were dropped by the transaction (their pending acks are moot). */
  droppedUpToId: number | undefined;

  static drop(reason: string, n: number): Tally {
    const t = new Tally();
    t.countDrop(reason, n);
    return t;
  }

  add(d: { rows: number; readings: number; bytes: number }): void {
    this.rows += d.rows;
    this.readings += d.readings;
    this.bytes += d.bytes;
  }

  countDrop(reason: string, n: number): void {
    this.droppedTotal += n;
    this.droppedBy[reason] = (this.droppedBy[reason] ?? 0) + n;
  }

  countAccepted(quality: string): void {
    this.acceptedBy[quality] = (this.acceptedBy[quality] ?? 0) + 1;
  }

  apply(d: Tally): void {
    this.add(d);
    for (const [k, n] of Object.entries(d.acceptedBy)) this.acceptedBy[k] = (this.acceptedBy[k] ?? 0) + n;
    this.droppedTotal += d.droppedTotal;
    for (const [k, n] of Object.entries(d.droppedBy)) this.droppedBy[k] = (this.droppedBy[k] ?? 0) + n;
    this.rejectedTotal += d.rejectedTotal;
    this.lostTotal += d.lostTotal;
  }

  load(v: { rows: number; readings: number; bytes: number; droppedTotal: number; droppedBy: Record<string, number>; rejectedTotal: number; lostTotal: number }): void {
    Object.assign(this, { ...v, droppedBy: { ...v.droppedBy } });
  }
}

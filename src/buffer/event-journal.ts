/**
 * Events wait for the broker in the buffer's database, like readings. The journal is
 * the one way to record them (`emit`), and it keeps three promises:
 *
 * - **Loss announcements are never evicted.** buffer_dropped / buffer_lost /
 *   buffer_purged / events_evicted are stored as kind `loss`; a new drop that
 *   continues the newest waiting one (same type and reason, next seq) extends its
 *   range instead of adding a row, so a long outage is one event, not thousands.
 * - **Chatty events coalesce.** A device_state event of a device that already has one
 *   waiting updates it (`to`, `transitions`, `first_ts`), so a flapping device cannot
 *   flood the table. Other informational events are capped; past the cap the oldest
 *   are evicted, counted on disk, and the eviction is itself announced (as a loss).
 * - **`emit` never throws.** When the database cannot take the event (disk full) it
 *   waits in memory (bounded, coalesced the same way) and the uplink still gets it;
 *   loss ranges are also written to the seq ledger, which survives a crash. They move
 *   into the database on the next successful write (`flushMemory`).
 *
 * Only events not yet handed to the uplink are merged or coalesced: one that may be
 * in flight is never changed under it.
 */
import type Database from 'better-sqlite3';
import type { EventBody } from '../core/payloads.js';
import type { SeqLedger } from './seq-ledger.js';

export interface StoredEvent {
  /** Positive: stored in the database. Negative: waiting in memory (disk failing). */
  id: number;
  payload: string;
}

type Kind = 'loss' | 'chatty' | 'info';

const LOSS_TYPES = new Set(['buffer_dropped', 'buffer_lost', 'buffer_purged', 'events_evicted']);

function kindOf(ev: EventBody): Kind {
  if (LOSS_TYPES.has(ev.type)) return 'loss';
  return ev.type === 'device_state' ? 'chatty' : 'info';
}

type Stamped = EventBody & { ts: number; transitions?: number; first_ts?: number };

export interface JournalOptions {
  now: () => number;
  /** Most non-loss events kept waiting (default 10,000). */
  maxInfo?: number;
  /** Most events kept in memory while the disk fails (default 1,000). */
  maxMemory?: number;
  ledger?: SeqLedger;
  /** Told of every event as it is recorded, merged or not (the status page); must not throw. */
  onEvent?: (ev: Record<string, unknown>) => void;
}

export class EventJournal {
  private readonly st;
  private handedOut = 0;
  private dbCount = 0;
  private infoCount = 0;
  private memory: { id: number; ev: Stamped; device?: string }[] = [];
  private memorySerial = 0;
  evictedTotal = 0;

  constructor(
    private readonly db: Database.Database,
    private readonly o: JournalOptions,
  ) {
    this.st = {
      insert: db.prepare('INSERT INTO events (payload, kind, device) VALUES (?, ?, ?)'),
      update: db.prepare('UPDATE events SET payload = ? WHERE id = ?'),
      newestLoss: db.prepare("SELECT id, payload FROM events WHERE kind = 'loss' AND id > ? AND json_extract(payload, '$.type') = ? ORDER BY id DESC LIMIT 1"),
      newestOf: db.prepare("SELECT id, payload FROM events WHERE kind = 'chatty' AND device = ? AND id > ? ORDER BY id DESC LIMIT 1"),
      oldest: db.prepare('SELECT id, payload FROM events ORDER BY id LIMIT ?'),
      del: db.prepare('DELETE FROM events WHERE id = ? RETURNING kind'),
      evict: db.prepare("DELETE FROM events WHERE id IN (SELECT id FROM events WHERE kind <> 'loss' ORDER BY id LIMIT ?)"),
      counts: db.prepare("SELECT count(*) AS n, coalesce(sum(kind <> 'loss'), 0) AS info FROM events"),
      getMeta: db.prepare("SELECT value FROM meta WHERE key = 'events_evicted_total'"),
      setMeta: db.prepare("INSERT INTO meta (key, value) VALUES ('events_evicted_total', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value"),
    };
    this.reload();
  }

  /** Counters from disk: at open and after a rolled-back transaction. */
  reload(): void {
    const c = this.st.counts.get() as { n: number; info: number };
    this.dbCount = c.n;
    this.infoCount = c.info;
    this.evictedTotal = (this.st.getMeta.get() as { value: number } | undefined)?.value ?? 0;
  }

  /** Record an event; never throws (falls back to memory and the ledger). */
  emit(ev: EventBody): void {
    try {
      this.db.transaction(() => this.write(ev)).immediate();
      this.flushMemory();
    } catch {
      this.reload();
      this.remember({ ...ev, ts: this.o.now() });
    }
  }

  /** Record an event inside the caller's transaction (throws, so the caller rolls back). */
  write(ev: EventBody): void {
    const stamped: Stamped = { ...ev, ts: this.o.now() };
    this.o.onEvent?.(stamped);
    const kind = kindOf(ev);
    if (kind === 'loss' && this.mergeLoss(stamped)) return;
    if (kind === 'chatty' && this.coalesce(stamped)) return;
    this.st.insert.run(JSON.stringify(stamped), kind, ev.type === 'device_state' ? ev.device : null);
    this.dbCount++;
    if (kind !== 'loss') {
      this.infoCount++;
      const max = this.o.maxInfo ?? 10_000;
      if (this.infoCount > max) this.evict(this.infoCount - max);
    }
  }

  private mergeLoss(ev: Stamped): boolean {
    const row = this.st.newestLoss.get(this.handedOut, ev.type) as { id: number; payload: string } | undefined;
    if (!row) return false;
    const merged = mergeLossEvents(JSON.parse(row.payload) as Stamped, ev);
    if (!merged) return false;
    this.st.update.run(JSON.stringify(merged), row.id);
    return true;
  }

  private coalesce(ev: Stamped): boolean {
    if (ev.type !== 'device_state') return false;
    const row = this.st.newestOf.get(ev.device, this.handedOut) as { id: number; payload: string } | undefined;
    if (!row) return false;
    this.st.update.run(JSON.stringify(coalesceState(JSON.parse(row.payload) as Stamped, ev)), row.id);
    return true;
  }

  private evict(n: number): void {
    const gone = this.st.evict.run(n).changes;
    this.dbCount -= gone;
    this.infoCount -= gone;
    this.evictedTotal += gone;
    this.st.setMeta.run(this.evictedTotal);
    this.write({ type: 'events_evicted', count: gone, evicted_total: this.evictedTotal });
  }

  private remember(ev: Stamped): void {
    if ((ev.type === 'buffer_dropped' || ev.type === 'buffer_lost') && this.o.ledger) {
      try {
        this.o.ledger.addPending({ first_seq: ev.first_seq, last_seq: ev.last_seq, reason: ev.reason });
      } catch {
        // the ledger is on the same disk; the memory copy below still goes out
      }
    }
    const last = this.memory[this.memory.length - 1];
    const merged = last && kindOf(ev) === 'loss' ? mergeLossEvents(last.ev, ev) : undefined;
    if (merged && last) return void (last.ev = merged);
    if (ev.type === 'device_state') {
      const same = this.memory.find((m) => m.ev.type === 'device_state' && m.device === ev.device);
      if (same) return void (same.ev = coalesceState(same.ev, ev));
    }
    this.memory.push({ id: -++this.memorySerial, ev, ...(ev.type === 'device_state' ? { device: ev.device } : {}) });
    const max = this.o.maxMemory ?? 1000;
    while (this.memory.length > max) {
      const i = this.memory.findIndex((m) => kindOf(m.ev) !== 'loss');
      if (i < 0) break;
      this.memory.splice(i, 1);
      this.evictedTotal++;
    }
  }

  /** Move events waiting in memory into the database (after the disk recovered). */
  flushMemory(): void {
    if (this.memory.length === 0) return;
    const waiting = this.memory;
    this.db
      .transaction(() => {
        for (const m of waiting) this.write(m.ev);
      })
      .immediate();
    this.memory = [];
    this.o.ledger?.clearPending();
  }

  /** The oldest waiting events, database first, then memory. They count as handed out. */
  list(limit: number): StoredEvent[] {
    const out = this.dbCount > 0 ? (this.st.oldest.all(limit) as StoredEvent[]) : [];
    for (const e of out) this.handedOut = Math.max(this.handedOut, e.id);
    for (const m of this.memory) {
      if (out.length >= limit) break;
      out.push({ id: m.id, payload: JSON.stringify(m.ev) });
    }
    return out;
  }

  /** The broker has the event: forget it. Acks of events already moved are ignored. */
  ack(id: number): void {
    if (id < 0) {
      this.memory = this.memory.filter((m) => m.id !== id);
      if (!this.memory.some((m) => kindOf(m.ev) === 'loss')) {
        try {
          this.o.ledger?.clearPending();
        } catch {
          // kept: announced again after a restart, a duplicate at worst
        }
      }
      return;
    }
    try {
      const gone = this.st.del.get(id) as { kind: Kind } | undefined;
      if (gone) {
        this.dbCount--;
        if (gone.kind !== 'loss') this.infoCount--;
      }
    } catch {
      // disk full: the event stays and is sent again later (a duplicate, never a loss)
    }
  }

  get waiting(): number {
    return this.dbCount + this.memory.length;
  }

  get inMemory(): number {
    return this.memory.length;
  }
}

/** One drop continuing another (same type and reason, next seq) becomes one wider range. */
export function mergeLossEvents(a: Stamped, b: Stamped): Stamped | undefined {
  if (a.type !== b.type) return undefined;
  if (a.type === 'buffer_dropped' && b.type === 'buffer_dropped' && a.reason === b.reason && a.last_seq + 1 === b.first_seq) {
    return { ...b, first_seq: a.first_seq, count: a.count + b.count, ts: a.ts };
  }
  if (a.type === 'buffer_lost' && b.type === 'buffer_lost' && a.reason === b.reason && a.last_seq + 1 === b.first_seq) {
    return { ...b, first_seq: a.first_seq, count: a.count + b.count, ts: a.ts };
  }
  if (a.type === 'events_evicted' && b.type === 'events_evicted') return { ...b, count: a.count + b.count, ts: a.ts };
  return undefined;
}

function coalesceState(a: Stamped, b: Stamped): Stamped {
  if (a.type !== 'device_state' || b.type !== 'device_state') return b;
  return { ...b, from: a.from, transitions: (a.transitions ?? 1) + 1, first_ts: a.first_ts ?? a.ts };
}

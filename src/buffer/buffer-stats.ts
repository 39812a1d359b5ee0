/**
 * What the buffer reports (BufferStats, for health and `citygate queue stats`): what
 * is waiting for delivery, the loss counters, the disk. Rows acknowledged but not yet
 * deleted (acks.ts) no longer wait: they are subtracted here, and the oldest age is
 * the oldest row not among them. Reads only: it never writes.
 */
import type { BufferStats } from './buffer.js';
import type { BufferTime, TimeSources } from './buffer-time.js';
import type { DiskGuard } from './disk-guard.js';
import type { RowStore } from './row-store.js';

export interface StatsSources {
  time: BufferTime;
  disk: DiskGuard;
  fileBytes: () => number;
  bootIdSource: TimeSources['bootIdSource'];
}

export function bufferStats(rows: RowStore, acks: readonly number[], s: StatsSources): BufferStats {
  const { t, stmt } = rows;
  const ids = acks.length > 0 ? JSON.stringify(acks) : undefined;
  const acked = ids ? (stmt.sumOf.get(ids) as { rows: number; readings: number; bytes: number }) : { rows: 0, readings: 0, bytes: 0 };
  const oldest = (ids ? stmt.oldestNotIn.get(ids) : stmt.oldestAt.get()) as { committed_at: number } | undefined;
  const fileBytes = s.fileBytes();
  return {
    rows: t.rows - acked.rows,
    readings: t.readings - acked.readings,
    bytes: t.bytes - acked.bytes,
    oldestAgeMs: oldest ? s.time.age(oldest.committed_at) : null,
    nextSeq: rows.nextSeq,
    droppedTotal: t.droppedTotal,
    droppedByReason: { ...t.droppedBy },
    rejectedTotal: t.rejectedTotal,
    lostTotal: t.lostTotal,
    acceptedByQuality: { ...t.acceptedBy },
    eventsEvicted: rows.events.evictedTotal,
    pendingEvents: rows.events.waiting,
    fileBytes,
    disk: s.disk.state(fileBytes),
    diskFreeBytes: s.disk.freeBytes(),
    ...(s.bootIdSource ? { bootId: s.bootIdSource } : {}),
  };
}

/**
 * The health JSON (the retained `health` topic, `/health`, `citygate status`; every field
 * is explained in docs/operations.md#what-health-says), built from the parts' own stats:
 * snake_case names, seconds for ages, optional fields only when known. Pure but for the
 * system vitals it reads (/proc, statfs).
 */
import type { BufferStats } from '../buffer/buffer.js';
import type { DeviceHealthSnapshot, HealthPayload } from '../core/payloads.js';
import { storageBytesWritten, systemVitals } from '../health/system.js';
import type { UplinkStats } from '../uplink/uplink.js';
import { VERSION } from '../version.js';

export interface HealthParts {
  gatewayId: string;
  dataDir: string;
  maxBytes: number;
  ts: number;
  uptimeMs: number;
  buffer: BufferStats;
  waitingInMemory: number;
  uplink: UplinkStats;
  devices: readonly (readonly [string, DeviceHealthSnapshot])[];
  buses: Record<string, Record<string, unknown>>;
}

function uplinkPart(u: UplinkStats): HealthPayload['uplink'] {
  const uplink: HealthPayload['uplink'] = { state: u.state, reconnects: u.reconnects, published: u.published, acked_readings: u.ackedReadings };
  if (u.connectedSince !== undefined) uplink.connected_since = u.connectedSince;
  if (u.lastError !== undefined) uplink.last_error = u.lastError;
  if (u.lastErrorAt !== undefined) uplink.last_error_at = u.lastErrorAt;
  if (u.insecure) uplink.insecure = true;
  if (u.broker !== undefined) uplink.broker = u.broker;
  if (u.lastAckAt !== undefined) uplink.last_ack_at = u.lastAckAt;
  if (u.sinceAckMs !== undefined) uplink.since_ack_s = Math.round(u.sinceAckMs / 1000);
  if (u.bytesSent !== undefined) uplink.bytes_sent = u.bytesSent;
  if (u.bytesReceived !== undefined) uplink.bytes_received = u.bytesReceived;
  if (u.ackLatency?.p50 !== undefined && u.ackLatency.p99 !== undefined) {
    const { p50, p99, buckets, sum, count } = u.ackLatency;
    uplink.ack_latency_ms = { p50, p99, buckets, sum: Math.round(sum), count };
  }
  return uplink;
}

export function healthSnapshot(p: HealthParts): HealthPayload {
  const b = p.buffer;
  return {
    gateway: p.gatewayId,
    ts: p.ts,
    version: VERSION,
    uptime_s: Math.round(p.uptimeMs / 1000),
    uplink: uplinkPart(p.uplink),
    buffer: {
      readings: b.readings,
      rows: b.rows,
      bytes: b.bytes,
      file_bytes: b.fileBytes,
      oldest_age_s: b.oldestAgeMs === null ? null : Math.round(b.oldestAgeMs / 1000),
      next_seq: b.nextSeq,
      dropped: b.droppedTotal,
      dropped_by_reason: b.droppedByReason,
      rejected: b.rejectedTotal,
      lost: b.lostTotal,
      events_evicted: b.eventsEvicted,
      pending_events: b.pendingEvents,
      waiting_in_memory: p.waitingInMemory,
      by_quality: b.acceptedByQuality,
      bytes_written: storageBytesWritten(),
      ...(b.bootId ? { boot_id: b.bootId } : {}),
    },
    disk: { state: b.disk, free_bytes: b.diskFreeBytes, limit_bytes: p.maxBytes },
    devices: Object.fromEntries(p.devices),
    buses: p.buses,
    system: systemVitals(p.dataDir),
  };
}

/**
 * The payloads citygate publishes, by topic (the topics themselves: src/uplink/topics.ts).
 * They live in core because the parts that produce them (buffer events, health) sit
 * below the uplink that sends them: the walls of docs/architecture.md.
 */
import type { DeviceState } from './health-reporter.js';

/** One device's health as ops staff read it (health.devices.<id>). */
export interface DeviceHealthSnapshot {
  state: DeviceState;
  reason?: string;
  readings: number;
  last_reading_age_s: number | null;
  errors: number;
  consecutive_errors: number;
  last_error?: string;
  /** Epoch ms of the last error. */
  last_error_at?: number;
  counters: Record<string, number>;
  latency_ms?: { p50: number; p99: number };
}

export interface ReadingPayload {
  seq: number;
  /** Epoch milliseconds. */
  ts: number;
  point: string;
  value: number | boolean | string | null;
  unit?: string;
  quality: 'good' | 'uncertain' | 'bad';
}

export interface DataPayload {
  gateway: string;
  device: string;
  /** Present (true) when the readings waited out an outage: sent from the backlog, possibly after fresher ones. */
  replay?: boolean;
  readings: ReadingPayload[];
}

export interface StatusPayload {
  state: 'online' | 'offline';
  version?: string;
  /** Epoch ms when this run of the gateway started. */
  started?: number;
}

export interface HealthPayload {
  gateway: string;
  ts: number;
  version: string;
  uptime_s: number;
  uplink: { state: string; connected_since?: number; reconnects: number; published: number; acked_readings: number; last_error?: string; last_error_at?: number; insecure?: boolean; broker?: string; last_ack_at?: number; since_ack_s?: number; bytes_sent?: number; bytes_received?: number; ack_latency_ms?: { p50: number; p99: number; buckets: Record<string, number>; sum: number; count: number } };
  buffer: {
    readings: number;
    rows: number;
    bytes: number;
    file_bytes: number;
    oldest_age_s: number | null;
    next_seq: number;
    /** Every loss counter: dropped (by reason), rejected, lost, evicted events. */
    dropped: number;
    dropped_by_reason: Record<string, number>;
    rejected: number;
    lost: number;
    events_evicted: number;
    pending_events: number;
    /** Readings waiting in memory for the disk (commits failing). */
    waiting_in_memory: number;
    /** Readings accepted since start, by quality (good, uncertain, bad). */
    by_quality: Record<string, number>;
    /** Bytes this process caused to be written to storage since start (SD-card wear); null off Linux. */
    bytes_written: number | null;
    /** Where the boot id came from: `systemd` (CITYGATE_BOOT_ID), `proc`, or `unknown` (every start taken for a reboot). */
    boot_id?: 'systemd' | 'proc' | 'unknown';
  };
  disk: { state: DiskState; free_bytes: number | null; limit_bytes: number };
  devices: Record<string, DeviceHealthSnapshot>;
  buses: Record<string, Record<string, unknown>>;
  system: Record<string, number | null>;
}

/** Why readings were dropped after they were accepted (they had a seq). */
export type DropReason = 'max_bytes' | 'max_age' | 'disk_full';
/** Why seqs may be lost without a drop: the database went back or away. */
export type LostReason = 'unclean_shutdown' | 'database_damaged' | 'database_missing' | 'database_behind' | 'ledger_damaged';

/**
 * Every event on `events`. `ts` is added when the event is recorded. Loss events
 * (buffer_dropped, buffer_lost, buffer_purged, events_evicted) are never evicted;
 * adjacent drops merge into one range. device_state events of one device coalesce
 * while they wait (with `transitions` counting them).
 */
export type EventBody =
  | { type: 'buffer_dropped'; reason: DropReason; first_seq: number; last_seq: number; count: number; dropped_total: number }
  | { type: 'buffer_lost'; reason: LostReason; first_seq: number; last_seq: number; count: number; detail?: string; moved_to?: string }
  | { type: 'buffer_purged'; first_seq: number; last_seq: number; count: number; device?: string }
  | { type: 'buffer_rejected'; reason: 'max_bytes' | 'disk_full'; count: number; rejected_total: number }
  | { type: 'events_evicted'; count: number; evicted_total: number }
  | { type: 'device_state'; device: string; from: string; to: string; reason?: string; transitions?: number; first_ts?: number }
  | { type: 'gateway_started' | 'gateway_stopping'; version: string }
  | { type: 'clock_step'; offset_ms: number; from: number; to: number; last_seq_before: number }
  | { type: 'disk_state'; state: DiskState; free_bytes: number | null; limit_bytes: number }
  | { type: 'command'; command: string; id: string | null; ok: boolean; error?: string; duplicate?: boolean; ms: number }
  /** Refused command requests of one window beyond its first (src/commands/refusals.ts). */
  | { type: 'command_refusals'; window_s: number; total: number; counts: Partial<Record<'bad_request' | 'unknown_command' | 'not_allowed' | 'duplicate' | 'rate_limited', number>>; unanswered: number }
  | { type: 'config_applied'; origin: 'command' | 'file'; added: string[]; removed: string[]; changed: string[]; in_place: string[] }
  | { type: 'config_rolled_back'; reason: string }
  | { type: 'update_result'; outcome: 'updated' | 'rolled-back' | 'rollback-failed' | 'refused'; bundle: string; from?: string; to?: string; detail: string };

export type EventPayload = EventBody & { ts: number };

/** The answer to a downlink command (`cmd/<name>/reply`, or the MQTT 5 response topic). */
export interface CommandReplyPayload {
  id: string | null;
  command: string;
  ok: boolean;
  result?: unknown;
  error?: string;
  /** More about the error, one line each (e.g. the config's file:line:col problems). */
  details?: string[];
  /** This id was seen before: the first answer, repeated; nothing was executed again. */
  duplicate?: boolean;
  ts: number;
}

/** ok: max_bytes fits; low: free space limits the buffer below max_bytes; full: writes fail. */
export type DiskState = 'ok' | 'low' | 'full';

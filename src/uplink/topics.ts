/**
 * Every MQTT topic citygate uses and the payload it carries (docs/architecture.md#topics-and-payloads).
 * Nothing else in the code builds topic strings.
 *
 * | topic              | retained | payload          |
 * | data/<device>      | no       | DataPayload      |
 * | status             | yes      | StatusPayload    |
 * | health             | yes      | HealthPayload    |
 * | events             | no       | EventPayload     |
 * | cmd/<name>         | no       | request (src/commands/protocol.ts) |
 * | cmd/<name>/reply   | no       | CommandReplyPayload (3.1.1; MQTT 5 uses the response topic) |
 */
import type { DeviceHealthSnapshot } from '../health/device-health.js';

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
  };
  disk: { state: DiskState; free_bytes: number | null; limit_bytes: number };
  devices: Record<string, DeviceHealthSnapshot>;
  buses: Record<string, Record<string, unknown>>;
  system: Record<string, number | null>;
}

/** Why readings were dropped after they were accepted (they had a seq). */
export type DropReason = 'max_bytes' | 'max_age' | 'disk_full';
/** Why seqs may be lost without a drop: the database went back or away. */
export type LostReason = 'unclean_shutdown' | 'database_damaged' | 'database_missing' | 'database_behind';

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

export class Topics {
  constructor(readonly root: string) {}

  static forGateway(gatewayId: string, topicRoot?: string): Topics {
    return new Topics(topicRoot ?? `citygate/${gatewayId}`);
  }

  data(device: string): string {
    return `${this.root}/data/${device}`;
  }
  get status(): string {
    return `${this.root}/status`;
  }
  get health(): string {
    return `${this.root}/health`;
  }
  get events(): string {
    return `${this.root}/events`;
  }
  /** Downlink command requests: `cmd/<name>`. */
  command(name: string): string {
    return `${this.root}/cmd/${name}`;
  }
  /** Where 3.1.1 replies go (and MQTT 5 ones without a response topic). */
  commandReply(name: string): string {
    return `${this.root}/cmd/${name}/reply`;
  }
  /** Subscription filter for every command request (one level: replies do not match). */
  get allCommands(): string {
    return `${this.root}/cmd/+`;
  }
  /** The command name of a request topic, or undefined when it is not one. */
  commandName(topic: string): string | undefined {
    const prefix = `${this.root}/cmd/`;
    if (!topic.startsWith(prefix)) return undefined;
    const name = topic.slice(prefix.length);
    return name.length > 0 && !name.includes('/') ? name : undefined;
  }
  /** Subscription filter for every data topic. */
  get allData(): string {
    return `${this.root}/data/+`;
  }
  /** A point's value for Home Assistant dashboards (retained view, not the delivery path). */
  haState(device: string, point: string): string {
    return `${this.root}/ha/${device}/${point}`;
  }
  /** Home Assistant's own discovery topic for one point (under its `discovery_prefix`); ids already slugged. */
  static haDiscovery(prefix: string, gatewaySlug: string, objectSlug: string): string {
    return `${prefix}/sensor/${gatewaySlug}/${objectSlug}/config`;
  }
  /** For fleet tools: the retained status and health of every gateway under a common root. */
  static fleet(root: string): { status: string; health: string } {
    const r = root.replace(/\/+$/, '');
    return { status: `${r}/+/status`, health: `${r}/+/health` };
  }
  /** Subscription filter for everything under the root. */
  get all(): string {
    return `${this.root}/#`;
  }
  /** Whether `topic` is one of this gateway's data topics. */
  isData(topic: string): boolean {
    return topic.startsWith(`${this.root}/data/`);
  }
}

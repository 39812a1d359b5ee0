/**
 * Prometheus metrics (prom-client), computed from the same health snapshot the MQTT
 * `health` topic carries, at scrape time: one source of truth, nothing to keep in sync.
 * Plus the process itself (CPU, resident memory, heap, event-loop lag) and build info.
 * (prom-client's default collectors are not used: some of their gauges end in `_total`,
 * which promtool rejects.)
 *
 * Names follow Prometheus conventions (checked by `promtool check metrics` in a test):
 * base units (`_seconds`, `_bytes`), counters end in `_total` and are typed counter.
 * Fields the snapshot does not carry (not measured by this runtime) are not exported at
 * all, rather than reported as a made-up 0: optional ones are registered only when the
 * first snapshot has them.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Counter, Gauge, Registry } from 'prom-client';
import type { HealthPayload } from '../core/payloads.js';
import { VERSION } from '../version.js';

type Labels = Record<string, string>;
type Sample = [Labels, number];

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** Health `buses.rs485-1` of type `modbus-rtu` → kind `modbus`, bus `rs485-1`. */
export function busLabels(name: string, snapshot: Record<string, unknown>): Labels {
  const type = typeof snapshot.type === 'string' ? snapshot.type : '';
  return { kind: /^[a-z0-9]+/.exec(type)?.[0] ?? 'unknown', bus: name };
}

export function metricsRegistry(snapshot: () => HealthPayload): Registry {
  const reg = new Registry();
  processMetrics(reg);
  let snap: HealthPayload | undefined;
  const fresh = (): HealthPayload => (snap ??= snapshot());
  const first = fresh();
  const has = (part: 'buffer' | 'uplink', key: string): boolean => (first[part] as Record<string, unknown>)[key] !== undefined;

  const gauge = (name: string, help: string, labelNames: string[], read: (h: HealthPayload) => Sample[]): void => {
    new Gauge({
      name, help, labelNames, registers: [reg],
      collect() {
        this.reset();
        for (const [labels, v] of read(fresh())) this.set(labels, v);
      },
    });
  };
  /** A total kept by the gateway, exposed as a counter (reset to the gateway's value each scrape). */
  const counter = (name: string, help: string, labelNames: string[], read: (h: HealthPayload) => Sample[]): void => {
    new Counter({
      name, help, labelNames, registers: [reg],
      collect() {
        this.reset();
        for (const [labels, v] of read(fresh())) this.inc(labels, Math.max(0, v));
      },
    });
  };
  const one = (v: unknown, labels: Labels = {}): Sample[] => (num(v) === undefined ? [] : [[labels, num(v) as number]]);
  const perDevice = (h: HealthPayload, pick: (d: Record<string, unknown>) => unknown): Sample[] =>
    Object.entries(h.devices).flatMap(([device, d]) => one(pick(d as unknown as Record<string, unknown>), { device }));

  new Gauge({ name: 'citygate_build_info', help: 'Always 1; labels carry the citygate and Node.js versions', labelNames: ['version', 'node'], registers: [reg] }).set(
    { version: VERSION, node: process.versions.node },
    1,
  );

  // Buffer
  gauge('citygate_buffer_readings', 'Readings waiting in the disk buffer', [], (h) => one(h.buffer.readings));
  gauge('citygate_buffer_bytes', 'Bytes of readings in the disk buffer', [], (h) => one(h.buffer.bytes));
  gauge('citygate_buffer_file_bytes', 'Bytes the buffer occupies on disk (database and WAL)', [], (h) => one(h.buffer.file_bytes));
  gauge('citygate_buffer_oldest_age_seconds', 'Age of the oldest buffered reading', [], (h) => one(h.buffer.oldest_age_s ?? 0));
  gauge('citygate_buffer_next_seq', 'The seq the next accepted reading gets', [], (h) => one(h.buffer.next_seq));
  counter('citygate_buffer_dropped_readings_total', 'Readings dropped by buffer limits (ever)', [], (h) => one(h.buffer.dropped));
  counter('citygate_buffer_rejected_readings_total', 'Readings refused because the buffer was full (ever)', [], (h) => one(h.buffer.rejected));
  counter('citygate_buffer_dropped_by_reason_readings_total', 'Readings dropped, by reason: max_bytes, max_age, disk_full (ever)', ['reason'], (h) =>
    Object.entries(h.buffer.dropped_by_reason ?? {}).flatMap(([reason, v]) => one(v, { reason })),
  );
  counter('citygate_buffer_lost_readings_total', 'Seqs that may be lost with a damaged or replaced database (ever)', [], (h) => one(h.buffer.lost));
  counter('citygate_buffer_evicted_events_total', 'Waiting events evicted to stay within the event limit (ever)', [], (h) => one(h.buffer.events_evicted));
  gauge('citygate_buffer_waiting_in_memory_readings', 'Readings held in memory because commits to disk fail', [], (h) => one(h.buffer.waiting_in_memory));
  gauge('citygate_disk_state', '1 for the state of the data_dir disk: ok, low or full', ['state'], (h) =>
    h.disk ? (['ok', 'low', 'full'] as const).map((state): Sample => [{ state }, h.disk.state === state ? 1 : 0]) : [],
  );
  gauge('citygate_buffer_limit_bytes', 'The running size limit of the buffer: min(max_bytes, free space - reserve)', [], (h) => one(h.disk?.limit_bytes));
  if (has('buffer', 'bytes_written')) counter('citygate_disk_written_bytes_total', 'Bytes the buffer wrote to disk', [], (h) => one((h.buffer as Record<string, unknown>).bytes_written));
  counter('citygate_readings_total', 'Readings accepted into the buffer, by quality', ['quality'], (h) =>
    Object.entries(((h.buffer as Record<string, unknown>).by_quality as Record<string, number> | undefined) ?? {}).flatMap(([quality, v]) => one(v, { quality })),
  );

  // Uplink
  gauge('citygate_uplink_online', '1 when connected to the broker', [], (h) => one(h.uplink.state === 'online' ? 1 : 0));
  gauge('citygate_uplink_state', '1 for the state of the uplink: connecting, online, stalled (acknowledgements overdue), offline, stopped', ['state'], (h) =>
    (['connecting', 'online', 'stalled', 'offline', 'stopped'] as const).map((state): Sample => [{ state }, h.uplink.state === state ? 1 : 0]),
  );
  gauge('citygate_uplink_seconds_since_ack', 'Seconds since the broker last acknowledged a reading', [], (h) => one(h.uplink.since_ack_s));
  gauge('citygate_uplink_insecure', '1 when the uplink is not encrypted', [], (h) => one(h.uplink.insecure ? 1 : 0));
  counter('citygate_uplink_reconnects_total', 'Reconnects since start', [], (h) => one(h.uplink.reconnects));
  counter('citygate_uplink_published_messages_total', 'MQTT messages published since start', [], (h) => one(h.uplink.published));
  counter('citygate_uplink_acked_readings_total', 'Readings acknowledged by the broker since start', [], (h) => one(h.uplink.acked_readings));
  if (has('uplink', 'bytes_sent')) counter('citygate_uplink_sent_bytes_total', 'Bytes sent to the broker since start', [], (h) => one((h.uplink as Record<string, unknown>).bytes_sent));
  if (has('uplink', 'bytes_received')) counter('citygate_uplink_received_bytes_total', 'Bytes received from the broker since start', [], (h) => one((h.uplink as Record<string, unknown>).bytes_received));
  if (has('uplink', 'ack_latency_ms')) {
    const latency = (h: HealthPayload, q: 'p50' | 'p99'): Sample[] => {
      const ms = ((h.uplink as Record<string, unknown>).ack_latency_ms as Record<string, number> | undefined)?.[q];
      return one(ms === undefined ? undefined : ms / 1000);
    };
    gauge('citygate_uplink_ack_latency_p50_seconds', 'Median PUBACK latency since start (upper bound of its histogram bucket)', [], (h) => latency(h, 'p50'));
    gauge('citygate_uplink_ack_latency_p99_seconds', '99th percentile PUBACK latency since start (upper bound of its histogram bucket)', [], (h) => latency(h, 'p99'));
    // The histogram itself: kept by the uplink (cumulative buckets), passed through as is.
    const name = 'citygate_uplink_ack_latency_seconds';
    reg.registerMetric({
      name,
      get: async () => {
        const l = (fresh().uplink as Record<string, unknown>).ack_latency_ms as { buckets?: Record<string, number>; sum?: number; count?: number } | undefined;
        const values = Object.entries(l?.buckets ?? {}).map(([le, v]) => ({ metricName: `${name}_bucket`, labels: { le: le === '+Inf' ? '+Inf' : String(Number(le) / 1000) }, value: v }));
        if (l?.count !== undefined) values.push({ metricName: `${name}_sum`, labels: {} as { le: string }, value: (l.sum ?? 0) / 1000 }, { metricName: `${name}_count`, labels: {} as { le: string }, value: l.count });
        return { name, help: 'Time from publishing a data message to its PUBACK', type: 'histogram', values, aggregator: 'sum' };
      },
    } as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  // Devices
  gauge('citygate_device_state', '1 for the state the device is in', ['device', 'state'], (h) =>
    Object.entries(h.devices).flatMap(([device, d]) => (['ok', 'degraded', 'down'] as const).map((state): Sample => [{ device, state }, d.state === state ? 1 : 0])),
  );
  gauge('citygate_device_last_reading_age_seconds', 'Seconds since the device last produced a reading', ['device'], (h) => perDevice(h, (d) => d.last_reading_age_s));
  counter('citygate_device_readings_total', 'Readings produced per device since start', ['device'], (h) => perDevice(h, (d) => d.readings));
  counter('citygate_device_errors_total', 'Errors per device since start', ['device'], (h) => perDevice(h, (d) => d.errors));
  counter('citygate_device_events_total', "Driver counters per device (requests, timeouts, crc_errors …)", ['device', 'event'], (h) =>
    Object.entries(h.devices).flatMap(([device, d]) => Object.entries(d.counters ?? {}).flatMap(([event, v]) => one(v, { device, event }))),
  );

  // Buses (Modbus lines and connections)
  const busCounters = ['requests', 'responses', 'timeouts', 'crc_errors', 'framing_errors', 'exceptions', 'retries', 'resyncs', 'stale_responses', 'noise_bytes'];
  counter('citygate_bus_events_total', 'Bus counters: requests, responses, timeouts, crc_errors …', ['kind', 'bus', 'event'], (h) =>
    Object.entries(h.buses ?? {}).flatMap(([key, b]) => busCounters.flatMap((event) => one(b[event], { ...busLabels(key, b), event }))),
  );
  gauge('citygate_bus_up', '1 when the bus port or connection is open', ['kind', 'bus'], (h) =>
    Object.entries(h.buses ?? {}).flatMap(([key, b]) => (b.link === undefined ? [] : one(b.link === 'open' ? 1 : 0, busLabels(key, b)))),
  );
  gauge('citygate_bus_queued_requests', 'Requests waiting for the bus', ['kind', 'bus'], (h) => Object.entries(h.buses ?? {}).flatMap(([key, b]) => one(b.queued, busLabels(key, b))));

  // System
  gauge('citygate_disk_free_bytes', 'Free space on the data_dir file system', [], (h) => one(h.disk?.free_bytes ?? h.system.disk_free_bytes));
  gauge('citygate_disk_size_bytes', 'Size of the data_dir file system', [], (h) => one(h.system.disk_total_bytes));
  gauge('citygate_cpu_temperature_celsius', 'SoC temperature', [], (h) => one(h.system.cpu_temp_c));

  snap = undefined;
  const origMetrics = reg.metrics.bind(reg);
  reg.metrics = async () => {
    snap = undefined;
    return origMetrics();
  };
  return reg;
}

/** CPU, memory and event-loop lag of this process, under Prometheus' usual names. */
function processMetrics(reg: Registry): void {
  const lag = monitorEventLoopDelay({ resolution: 20 });
  lag.enable();
  new Counter({
    name: 'process_cpu_seconds_total', help: 'User and system CPU time spent', registers: [reg],
    collect() {
      const u = process.cpuUsage();
      this.reset();
      this.inc((u.user + u.system) / 1e6);
    },
  });
  new Gauge({ name: 'process_resident_memory_bytes', help: 'Resident memory size', registers: [reg], collect() { this.set(process.memoryUsage.rss()); } });
  new Gauge({ name: 'process_heap_used_bytes', help: 'V8 heap in use', registers: [reg], collect() { this.set(process.memoryUsage().heapUsed); } });
  new Gauge({ name: 'process_start_time_seconds', help: 'Start time of the process since the epoch', registers: [reg] }).set(Math.round(Date.now() / 1000 - process.uptime()));
  new Gauge({
    name: 'nodejs_eventloop_lag_seconds', help: 'Event-loop delay, 99th percentile since the last scrape', registers: [reg],
    collect() {
      this.set(Number.isFinite(lag.percentile(99)) ? lag.percentile(99) / 1e9 : 0);
      lag.reset();
    },
  });
}

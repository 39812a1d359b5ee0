/**
 * The whole fleet as one Prometheus scrape target: every gateway's retained health as
 * series with a `gateway` label, so one exporter next to the broker covers hundreds of
 * gateways behind NAT. Text exposition format 0.0.4, written directly (a few series per
 * gateway; no registry needed). Series of a gateway whose health is unknown are left
 * out rather than reported as 0.
 *
 * The exporter's own link comes first: `citygate_fleet_broker_up`. While it is 0 every
 * gateway is `stale` (`citygate_gateway_state{state="stale"}`) and `citygate_gateway_up`
 * is left out (not known), so `citygate_gateway_up == 0` alerts fire only for gateways
 * that are offline, vanished or missing — not for a watcher that lost its broker.
 */
import { createServer, type Server } from 'node:http';
import { GATEWAY_STATES, type GatewayRow } from './model.js';

/** The exporter's own state, for the `citygate_fleet_*` series. */
export interface ExporterState {
  brokerUp: boolean;
  /** Seconds the broker link has been down (0 while up). */
  brokerDownS: number;
  malformed: number;
}

/** 1 online; 0 offline, vanished, missing; not known (left out) while unknown or stale. */
function upValue(r: GatewayRow): number | null {
  if (r.state === 'online') return 1;
  return r.state === 'unknown' || r.state === 'stale' ? null : 0;
}

const esc = (v: string): string => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

interface Family {
  name: string;
  help: string;
  type: 'gauge' | 'counter';
  value: (r: GatewayRow) => number | null;
}

const FAMILIES: Family[] = [
  { name: 'citygate_gateway_up', help: 'The gateway says it is online (retained status); 0 also when vanished or missing; absent while not known.', type: 'gauge', value: upValue },
  { name: 'citygate_gateway_health_age_seconds', help: 'Age of the last retained health snapshot.', type: 'gauge', value: (r) => r.health_age_s },
  { name: 'citygate_gateway_uptime_seconds', help: 'Gateway uptime at its last health snapshot.', type: 'gauge', value: (r) => r.uptime_s },
  { name: 'citygate_gateway_buffer_readings', help: 'Readings waiting in the gateway buffer (backlog).', type: 'gauge', value: (r) => r.backlog },
  { name: 'citygate_gateway_buffer_oldest_age_seconds', help: 'Age of the oldest buffered reading.', type: 'gauge', value: (r) => r.backlog_oldest_s },
  { name: 'citygate_gateway_buffer_dropped_total', help: 'Readings dropped by the buffer limits since the buffer was created.', type: 'counter', value: (r) => r.dropped },
  { name: 'citygate_gateway_disk_free_bytes', help: 'Free space on the gateway data partition.', type: 'gauge', value: (r) => r.disk_free_bytes },
  { name: 'citygate_gateway_cpu_temperature_celsius', help: 'Gateway CPU temperature.', type: 'gauge', value: (r) => r.cpu_temp_c },
];

export function renderFleetMetrics(rows: readonly GatewayRow[], exporter: ExporterState = { brokerUp: true, brokerDownS: 0, malformed: 0 }): string {
  const out: string[] = [];
  out.push('# HELP citygate_fleet_broker_up The exporter is connected to the broker (0: every gateway is stale).', '# TYPE citygate_fleet_broker_up gauge');
  out.push(`citygate_fleet_broker_up ${exporter.brokerUp ? 1 : 0}`);
  out.push('# HELP citygate_fleet_broker_down_seconds How long the exporter has been without its broker (0 while connected).', '# TYPE citygate_fleet_broker_down_seconds gauge');
  out.push(`citygate_fleet_broker_down_seconds ${exporter.brokerDownS}`);
  out.push('# HELP citygate_fleet_malformed_messages_total Status or health messages that were not JSON objects.', '# TYPE citygate_fleet_malformed_messages_total counter');
  out.push(`citygate_fleet_malformed_messages_total ${exporter.malformed}`);
  out.push('# HELP citygate_fleet_gateways Gateways in the view, by state.', '# TYPE citygate_fleet_gateways gauge');
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(r.state, (counts.get(r.state) ?? 0) + 1);
  for (const s of GATEWAY_STATES) out.push(`citygate_fleet_gateways{state="${s}"} ${counts.get(s) ?? 0}`);
  // Each gateway's label escaped once (10,000 gateways: ~14 lines each).
  const label = rows.map((r) => `gateway="${esc(r.gateway)}"`);
  out.push('# HELP citygate_gateway_state The state of each gateway (value 1): online, offline, unknown, vanished, missing, stale.', '# TYPE citygate_gateway_state gauge');
  rows.forEach((r, i) => out.push(`citygate_gateway_state{${label[i]},state="${r.state}"} 1`));
  for (const f of FAMILIES) {
    out.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`);
    rows.forEach((r, i) => {
      const v = f.value(r);
      if (v !== null) out.push(`${f.name}{${label[i]}} ${v}`);
    });
  }
  out.push('# HELP citygate_gateway_devices Devices per state at the last health snapshot.', '# TYPE citygate_gateway_devices gauge');
  rows.forEach((r, i) => {
    if (r.health_age_s === null) return;
    for (const s of ['ok', 'degraded', 'down'] as const) out.push(`citygate_gateway_devices{${label[i]},state="${s}"} ${r.devices[s]}`);
  });
  out.push('# HELP citygate_gateway_info Version of each gateway (value 1).', '# TYPE citygate_gateway_info gauge');
  rows.forEach((r, i) => {
    if (r.version) out.push(`citygate_gateway_info{${label[i]},version="${esc(r.version)}"} 1`);
  });
  return `${out.join('\n')}\n`;
}

/** Serve GET /metrics from `rows()` on host:port; resolves with the bound address. */
export async function serveFleetMetrics(listen: string, rows: () => GatewayRow[], exporter?: () => ExporterState): Promise<{ server: Server; address: string }> {
  const idx = listen.lastIndexOf(':');
  const host = listen.slice(0, idx).replace(/^\[|\]$/g, '');
  const port = Number(listen.slice(idx + 1));
  if (idx < 0 || !Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--prometheus expects HOST:PORT like 127.0.0.1:9108, got "${listen}"`);
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') return void res.writeHead(405).end();
    if (path === '/metrics') return void res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(renderFleetMetrics(rows(), exporter?.()));
    if (path === '/') return void res.writeHead(200, { 'content-type': 'text/plain' }).end('citygate fleet exporter: see /metrics\n');
    res.writeHead(404).end('not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new Error(`cannot listen on ${listen}: ${err.message}`)));
    server.listen(port, host, () => resolve());
  });
  const a = server.address();
  return { server, address: a && typeof a === 'object' ? `${a.address}:${a.port}` : listen };
}

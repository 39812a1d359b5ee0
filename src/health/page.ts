/** The status page's HTML: plain, readable on a phone on site, refreshes every 5 s. */
import type { HealthPayload } from '../uplink/topics.js';
import { formatBytes } from '../config/units.js';

const esc = (s: unknown): string =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

export function renderStatusPage(h: HealthPayload): string {
  const rows = Object.entries(h.devices)
    .map(
      ([id, d]) =>
        `<tr class="${esc(d.state)}"><td>${esc(id)}</td><td>${esc(d.state)}</td><td>${d.readings}</td><td>${d.last_reading_age_s ?? '—'}</td><td>${d.errors}</td><td>${esc(d.last_error ?? '')}</td></tr>`,
    )
    .join('');
  return `<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="refresh" content="5">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>citygate ${esc(h.gateway)}</title>
<style>body{font-family:system-ui,sans-serif;margin:1em}td,th{padding:.2em .6em;text-align:left}
.ok td:nth-child(2){color:#070}.degraded td:nth-child(2){color:#a60}.down td:nth-child(2){color:#c00}</style></head><body>
<h1>citygate ${esc(h.gateway)}</h1>
<p>version ${esc(h.version)} · up ${h.uptime_s}s · uplink <b>${esc(h.uplink.state)}</b>${h.uplink.last_error ? ` (${esc(h.uplink.last_error)})` : ''}</p>
<p>buffer: ${h.buffer.readings} readings, ${formatBytes(h.buffer.bytes)}, oldest ${h.buffer.oldest_age_s ?? '—'}s, dropped ${h.buffer.dropped}, next seq ${h.buffer.next_seq}</p>
<table><tr><th>device</th><th>state</th><th>readings</th><th>last (s ago)</th><th>errors</th><th>last error</th></tr>${rows}</table>
<p><a href="/health">health JSON</a> · <a href="/metrics">metrics</a></p></body></html>`;
}

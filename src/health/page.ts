/**
 * The status page for the technician on site: every point's value, unit, quality and
 * age; device and bus states with their last error; buffer, uplink and disk; the last
 * events. The header stays on top while scrolling and carries what is wrong (drops,
 * losses, devices and buses not ok, the disk), so a long page hides nothing. One self-contained HTML document (no CDN, no external file), readable on a
 * phone; the data comes embedded as JSON and the inline script (page-script.ts)
 * renders it and keeps it live over server-sent events.
 */
import type { StatusView } from './live.js';
import { PAGE_SCRIPT } from './page-script.js';

const esc = (s: unknown): string =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

/** JSON safe inside <script>: nothing in it can close the element. */
const scriptJson = (v: unknown): string => JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');

const CSS = `
:root{color-scheme:light dark;--ok:#1a7f37;--warn:#b35900;--bad:#c62828;--mute:#777}
header{position:sticky;top:0;z-index:1;background:Canvas;padding-bottom:.3em;border-bottom:1px solid #8884}
.alerts{margin:.3em 0 0;padding:.2em .5em .2em 1.4em;border-left:.3em solid var(--bad);color:var(--bad);font-weight:600}.allok{color:var(--ok);margin-top:.2em}
body{font:16px/1.4 system-ui,-apple-system,sans-serif;margin:0 auto;padding:.6em;max-width:60em}
h1{font-size:1.3em;margin:.2em 0}h2{font-size:1.1em;margin:1em 0 .3em;border-bottom:1px solid #8884}h3{font-size:1em}
.scroll{overflow-x:auto}table{border-collapse:collapse;width:100%}
td,th{padding:.3em .5em;text-align:left;border-bottom:1px solid #8882;white-space:nowrap}
td:last-child{white-space:normal}.badge{display:inline-block;padding:0 .45em;border-radius:.3em;color:#fff;background:var(--mute)}
.badge.ok,.badge.online{background:var(--ok)}.badge.degraded,.badge.connecting,.badge.stalled{background:var(--warn)}
.badge.down,.badge.offline,.badge.stopped{background:var(--bad)}
tr.grp{display:none}tr.grp th{padding-top:.6em}.q-bad td{color:var(--bad)}.q-uncertain td{color:var(--warn)}.err{color:var(--bad)}.empty{color:var(--mute)}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2em .8em}dt{font-weight:600}dd{margin:0}
ol{padding-left:1.2em}li{margin:.15em 0;word-break:break-word}time{color:var(--mute);font-variant-numeric:tabular-nums}
footer{margin:1.5em 0 .5em;color:var(--mute);font-size:.9em}
@media (max-width:40em){body{font-size:15px}td,th{padding:.25em .3em}
#points-table td:nth-child(1),#points-table th:nth-child(1){display:none}#points-table tr.grp{display:table-row}
table.cards thead{display:none}table.cards tr{display:block;border-bottom:1px solid #8884;padding:.3em 0}
table.cards td{display:flex;gap:.6em;border:0;white-space:normal;word-break:break-word;padding:.05em .3em}
table.cards td:before{content:attr(data-label);min-width:6.5em;color:var(--mute)}table.cards td:empty{display:none}}
`;

export function renderStatusPage(view: StatusView): string {
  const id = esc(view.health.gateway);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>citygate ${id}</title><style>${CSS}</style></head><body>
<header><h1>citygate <span id="gw">${id}</span> <span id="live" class="badge">connecting…</span></h1><div id="summary"></div></header>
<noscript><p>This page needs JavaScript to show values; the raw data is at <a href="health">/health</a>.</p></noscript>
<h2>Points</h2><section id="points"></section>
<h2>Devices</h2><section id="devices"></section>
<h2>Buffer, uplink, disk</h2><section id="vitals"></section>
<h2>Last events</h2><section id="events"></section>
<footer><a href="health">health JSON</a> · <a href="metrics">metrics</a></footer>
<script id="initial" type="application/json">${scriptJson(view)}</script>
<script>${PAGE_SCRIPT}</script></body></html>`;
}

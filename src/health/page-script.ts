/**
 * The status page's browser script, as text (served inline: no CDN, no build step).
 * It renders a StatusView (live.ts) into the page and keeps it current from the
 * server-sent events on /live, reconnecting by itself (EventSource does). Ages tick
 * every second between updates, measured against the gateway's clock, not the phone's.
 * Plain ES2017, string concatenation only, every value escaped.
 */
export const PAGE_SCRIPT = String.raw`
(function () {
  'use strict';
  var view = JSON.parse(document.getElementById('initial').textContent);
  var receivedAt = Date.now();
  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }
  function gwNow() { return view.health.ts + (Date.now() - receivedAt); }
  function age(ms) {
    if (ms === null || ms === undefined || !isFinite(ms)) return '—';
    var s = Math.max(0, Math.round(ms / 1000));
    if (s < 120) return s + ' s';
    if (s < 7200) return Math.round(s / 60) + ' min';
    if (s < 172800) return Math.round(s / 3600) + ' h';
    return Math.round(s / 86400) + ' d';
  }
  function bytes(n) {
    if (n === null || n === undefined) return '—';
    var u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'], i = 0;
    while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
    return (i === 0 ? n : n.toFixed(1)) + ' ' + u[i];
  }
  function value(v) {
    if (v === null) return '—';
    if (typeof v === 'number') return String(Math.round(v * 1000) / 1000);
    return String(v);
  }
  // Cells carry their column name: on a narrow screen a "cards" table shows each row as a block.
  function table(id, head, rows, empty, cards) {
    if (rows.length === 0) return '<p class="empty" id="' + id + '">' + esc(empty) + '</p>';
    var body = rows.map(function (r) {
      if (r.group !== undefined) return '<tr class="grp"><th colspan="' + head.length + '">' + esc(r.group) + '</th></tr>';
      return '<tr' + (r.cls ? ' class="' + esc(r.cls) + '"' : '') + '>' + r.cells.map(function (c, i) {
        return '<td data-label="' + esc(head[i]) + '">' + c + '</td>';
      }).join('') + '</tr>';
    });
    return '<div class="scroll"><table id="' + id + '"' + (cards ? ' class="cards"' : '') + '><thead><tr>' +
      head.map(function (h) { return '<th>' + esc(h) + '</th>'; }).join('') + '</tr></thead><tbody>' + body.join('') + '</tbody></table></div>';
  }
  function eventText(e) {
    var skip = { type: 1, ts: 1 };
    return Object.keys(e).filter(function (k) { return !skip[k]; }).map(function (k) {
      var v = e[k];
      return k + '=' + (typeof v === 'object' ? JSON.stringify(v) : String(v));
    }).join(' ');
  }
  /** What is wrong, in the header: drops, losses and faults, whatever the page's length. */
  function alerts(h) {
    var b = h.buffer, out = [];
    var notOk = function (m) { return Object.keys(m || {}).filter(function (k) { return m[k].state !== 'ok'; }).sort(); };
    var names = function (ids) { return ids.slice(0, 4).join(', ') + (ids.length > 4 ? ' and ' + (ids.length - 4) + ' more' : ''); };
    if (b.dropped) {
      var why = Object.keys(b.dropped_by_reason || {}).map(function (k) { return k + ' ' + b.dropped_by_reason[k]; }).join(', ');
      out.push(b.dropped + ' readings dropped' + (why ? ' (' + why + ')' : ''));
    }
    if (b.lost) out.push(b.lost + ' readings lost');
    if (b.rejected) out.push(b.rejected + ' readings rejected');
    var devs = notOk(h.devices), buses = notOk(h.buses);
    if (devs.length) out.push(devs.length + ' device' + (devs.length === 1 ? '' : 's') + ' not ok: ' + names(devs));
    if (buses.length) out.push(buses.length + ' bus' + (buses.length === 1 ? '' : 'es') + ' not ok: ' + names(buses));
    if (h.disk && h.disk.state && h.disk.state !== 'ok') out.push('disk ' + h.disk.state);
    if (!out.length) return '<div id="alerts" class="allok">no drops, no losses, every device ok</div>';
    return '<ul id="alerts" class="alerts">' + out.map(function (a) { return '<li>' + esc(a) + '</li>'; }).join('') + '</ul>';
  }
  function render() {
    var h = view.health, now = gwNow();
    document.title = 'citygate ' + h.gateway;
    var up = h.uplink, b = h.buffer, sys = h.system || {};
    var sum = '<span class="badge ' + esc(up.state) + '" id="uplink-state">uplink ' + esc(up.state) + '</span> ' +
      'version ' + esc(h.version) + ' · up ' + age(h.uptime_s * 1000) +
      (up.last_error ? '<div class="err" id="uplink-error">' + esc(up.last_error) + '</div>' : '') + alerts(h);
    document.getElementById('summary').innerHTML = sum;
    document.getElementById('gw').textContent = h.gateway;
    var points = [], lastDevice;
    view.points.forEach(function (p) {
      // A device heading for narrow screens, where the device column is hidden.
      if (p.device !== lastDevice) points.push({ group: p.device });
      lastDevice = p.device;
      points.push({ cls: 'q-' + p.quality, cells: [esc(p.device), esc(p.point), '<b>' + esc(value(p.value)) + '</b>', esc(p.unit || ''), esc(p.quality), age(now - p.ts)] });
    });
    document.getElementById('points').innerHTML = table('points-table', ['device', 'point', 'value', 'unit', 'quality', 'age'], points, 'no readings yet', false);
    var devs = Object.keys(h.devices).sort().map(function (id) {
      var d = h.devices[id];
      return { cls: 'dev-' + d.state, cells: [esc(id), '<span class="badge ' + esc(d.state) + '">' + esc(d.state) + '</span>', esc(d.readings), age(d.last_reading_age_s === null ? null : d.last_reading_age_s * 1000), esc(d.errors), esc(d.last_error || d.reason || '')] };
    });
    var buses = Object.keys(h.buses || {}).sort().map(function (id) {
      var s = h.buses[id], rest = Object.keys(s).filter(function (k) { return k !== 'state' && k !== 'last_error'; });
      return { cells: [esc(id), '<span class="badge ' + esc(s.state || '') + '">' + esc(s.state || '—') + '</span>',
        esc(rest.map(function (k) { return k + ' ' + (typeof s[k] === 'object' ? JSON.stringify(s[k]) : s[k]); }).join(' · ')), esc(s.last_error || '')] };
    });
    document.getElementById('devices').innerHTML =
      table('devices-table', ['device', 'state', 'readings', 'last reading', 'errors', 'last error'], devs, 'no devices configured', true) +
      (buses.length ? '<h3>Buses</h3>' + table('buses-table', ['bus', 'state', 'statistics', 'last error'], buses, '', true) : '');
    var disk = (sys.disk_free_bytes === null || sys.disk_free_bytes === undefined ? '—' :
      bytes(sys.disk_free_bytes) + ' free of ' + bytes(sys.disk_total_bytes)) + (h.disk ? ' · ' + h.disk.state : '');
    document.getElementById('vitals').innerHTML =
      '<dl>' +
      '<dt>Buffer</dt><dd id="buffer">' + esc(b.readings) + ' readings · ' + bytes(b.bytes) + ' · oldest ' + age(b.oldest_age_s === null ? null : b.oldest_age_s * 1000) +
      ' · dropped ' + esc(b.dropped) + ' · next seq ' + esc(b.next_seq) + '</dd>' +
      '<dt>Uplink</dt><dd id="uplink">' + esc(up.state) + ' · ' + esc(up.published) + ' messages · ' + esc(up.acked_readings) + ' readings acknowledged · ' + esc(up.reconnects) + ' reconnects' +
      (up.since_ack_s !== undefined && up.since_ack_s !== null ? ' · last acknowledgement ' + age(up.since_ack_s * 1000) + ' ago' : '') + (up.broker ? ' · ' + esc(up.broker) : '') + '</dd>' +
      '<dt>Disk</dt><dd id="disk">' + esc(disk) + '</dd>' +
      '<dt>System</dt><dd>' + (sys.cpu_temp_c !== null && sys.cpu_temp_c !== undefined ? esc(sys.cpu_temp_c) + ' °C · ' : '') + 'load ' + esc(sys.load_1m) + ' · memory ' + bytes(sys.mem_free_bytes) + ' free</dd>' +
      '</dl>';
    var evs = view.events.map(function (e) {
      return '<li><time>' + esc(new Date(e.ts).toISOString().replace('T', ' ').slice(0, 19)) + '</time> <b>' + esc(e.type) + '</b> ' + esc(eventText(e)) + '</li>';
    });
    document.getElementById('events').innerHTML = evs.length ? '<ol id="events-list">' + evs.join('') + '</ol>' : '<p class="empty">no events since start</p>';
  }
  render();
  setInterval(render, 1000);
  // Keep a ?token=… login on the links to /health and /metrics.
  Array.prototype.forEach.call(document.querySelectorAll('footer a'), function (a) { a.href = a.getAttribute('href') + location.search; });
  if (window.EventSource) {
    var live = document.getElementById('live');
    var src = new EventSource('live' + location.search);
    src.addEventListener('view', function (m) {
      view = JSON.parse(m.data);
      receivedAt = Date.now();
      live.textContent = 'live';
      live.className = 'badge ok';
      render();
    });
    src.onerror = function () { live.textContent = 'reconnecting…'; live.className = 'badge degraded'; };
  }
})();
`;

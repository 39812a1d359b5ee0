/** The link-test figures as a plain-text table (printed at the end of npm run test:links). */
import type { BacklogResult, ProfileResult, RecoveryResult } from './runs.js';

const s = (ms: number): string => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(2)} s` : '-');

function table(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string => `| ${r.map((c, i) => c.padEnd(w[i] ?? 0)).join(' | ')} |`;
  return [line(head), `|${w.map((n) => '-'.repeat(n + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

export function formatReport(r: { profiles: ProfileResult[]; recovery: RecoveryResult[]; backlog: BacklogResult[] }, shaper: string): string {
  const out: string[] = [`link results (shaper: ${shaper})`];
  if (r.profiles.length > 0) {
    out.push(
      table(
        ['profile', 'window', 'readings/s', 'live p50', 'live p99', 'not yet delivered', 'B/reading (up+down)', 'up B', 'down B', 'dups', 'lost'],
        r.profiles.map((p) => [p.profile, `${p.seconds.toFixed(0)} s`, p.perSecond.toFixed(1), s(p.p50Ms), s(p.p99Ms), String(p.pending), p.bytesPerReading.toFixed(1), String(p.wire.up), String(p.wire.down), String(p.duplicates), String(p.gaps)]),
      ),
    );
  }
  if (r.recovery.length > 0) {
    out.push(
      table(
        ['outage', 'first delivery after restore', 'first fresh reading after restore', 'backlog drained after restore', 'backlog readings', 'lost'],
        r.recovery.map((x) => [`${x.outageS} s`, `${x.firstDeliveryS.toFixed(1)} s`, `${x.firstFreshS.toFixed(1)} s`, `${x.drainedS.toFixed(1)} s`, String(x.backlog), String(x.gaps)]),
      ),
    );
  }
  for (const b of r.backlog) {
    out.push(
      table(
        ['backlog', 'filled in', 'window', 'live delivered', 'live not yet delivered', 'live p50', 'live p99 (≥ when pending)', 'backlog delivered in window', 'drained after', 'lost'],
        [[String(b.backlog), `${b.fillS.toFixed(0)} s`, `${b.windowS} s`, String(b.liveDelivered), String(b.livePending), s(b.liveP50Ms), s(b.liveP99Ms), String(b.backlogDeliveredInWindow), b.drainedS === undefined ? `> ${b.windowS} s` : `${b.drainedS.toFixed(1)} s`, String(b.gaps)]],
      ),
    );
  }
  return out.join('\n\n');
}

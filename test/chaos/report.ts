/** The chaos run's printed result: one line per fault kind, a totals line, then details. */
import type { KindRow, LedgerReport } from './ledger.js';

const COLS: Array<[keyof KindRow, string]> = [
  ['kind', 'fault'],
  ['injected', 'injected'],
  ['delivered', 'delivered'],
  ['duplicates', 'duplicates'],
  ['announced', 'announced loss'],
  ['unexplained', 'unexplained loss'],
  ['conflicts', 'seq conflicts'],
  ['brokerLost', 'broker lost'],
  ['lostBeforeSeq', 'lost before seq'],
];

export function table(r: LedgerReport): string[] {
  const rows = [...r.rows.filter((x) => x.injected > 0 || x.delivered > 0 || x.unexplained > 0), r.total];
  const cells = [COLS.map(([, h]) => h), ...rows.map((x) => COLS.map(([k]) => String(x[k])))];
  const width = COLS.map((_, i) => Math.max(...cells.map((c) => (c[i] as string).length)));
  const fmt = (c: string[]): string => `| ${c.map((v, i) => (i === 0 ? v.padEnd(width[i] as number) : v.padStart(width[i] as number))).join(' | ')} |`;
  const sep = `|${width.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [fmt(cells[0] as string[]), sep, ...cells.slice(1).map(fmt)];
}

export function details(r: LedgerReport, fmtTime: (t: number) => string): string[] {
  const out: string[] = [];
  out.push(`highest seq: ${r.maxSeq}; announced as lost but arrived anyway: ${JSON.stringify(r.announcedButDelivered)}`);
  out.push(`loss events: ${JSON.stringify(r.lossEvents)}`);
  out.push(`event types: ${JSON.stringify(r.eventTypes)}`);
  if (r.unexplained.length > 0) {
    out.push(`unexplained seq gaps (${r.unexplained.length} ranges; first 20):`);
    for (const g of r.unexplained.slice(0, 20))
      out.push(`  seq ${g.first}..${g.last} (${g.last - g.first + 1}) [${g.kind}] after a reading sampled at ${fmtTime(g.at)}`);
  }
  if (r.conflictSamples.length > 0) out.push('seq conflicts (first 20):', ...r.conflictSamples.map((s) => `  ${s}`));
  if (r.beforeSeqSamples.length > 0) out.push('readings lost before they had a seq (first 20):', ...r.beforeSeqSamples.map((s) => `  ${s}`));
  if (r.orderViolations.length > 0) out.push(`order violations: ${r.orderViolations.length} (first 5):`, ...r.orderViolations.slice(0, 5).map((s) => `  ${s}`));
  return out;
}

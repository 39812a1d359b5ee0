/**
 * `npm run bench`: runs every section in bench/sections/*.ts (each `export default`s a
 * BenchSection, see bench/types.ts), prints one table and writes bench-results.json.
 *
 *   BENCH_QUICK=1      everything scaled down (ctx.scale = 0.1): a smoke run
 *   BENCH_SCALE=0.5    any other scale
 *   BENCH_ONLY=core    only the sections whose name or file matches (comma-separated)
 *   BENCH_OUT=file     where the JSON goes (default bench-results.json in the repo)
 *   BENCH_KEEP=1       keep the scratch directory
 *   BENCH_STRICT=1     exit 1 when a target is missed or a section failed
 *
 * A section that throws, times out or returns nonsense becomes a row saying what
 * failed; the run always finishes and always prints the table.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchContext, BenchRow, BenchSection } from './types.js';

const REPO = fileURLToPath(new URL('../', import.meta.url));
const SECTIONS = join(REPO, 'bench', 'sections');

const quick = process.env.BENCH_QUICK === '1';
const scale = process.env.BENCH_SCALE ? Number(process.env.BENCH_SCALE) : quick ? 0.1 : 1;
/** Longest one section may run before it is reported as failed. */
const SECTION_TIMEOUT_MS = Number(process.env.BENCH_SECTION_TIMEOUT_MS ?? (quick ? 240_000 : 600_000));

interface SectionResult {
  file: string;
  name: string;
  ms: number;
  error?: string;
  rows: BenchRow[];
}

const started = Date.now();
const loadavgStart = loadavg();
function log(line: string): void {
  const t = ((Date.now() - started) / 1000).toFixed(1).padStart(6);
  process.stderr.write(`[${t}s] ${line}\n`);
}

function failureRow(section: string, what: string, err: unknown): BenchRow {
  const msg = err instanceof Error ? err.message : String(err);
  return { name: `${section}: FAILED (${what})`, value: Number.NaN, unit: '', ok: false, note: msg.replace(/\s+/g, ' ').slice(0, 400) };
}

function isSection(x: unknown): x is BenchSection {
  return typeof x === 'object' && x !== null && typeof (x as BenchSection).name === 'string' && typeof (x as BenchSection).run === 'function';
}

/** Keeps well-formed rows; a malformed one becomes a failure row. */
function checkRows(section: string, rows: unknown): BenchRow[] {
  if (!Array.isArray(rows)) return [failureRow(section, 'result', new Error('run() did not return an array of rows'))];
  return rows.map((r: unknown, i) => {
    const row = r as Partial<BenchRow> | null;
    if (!row || typeof row.name !== 'string' || typeof row.value !== 'number' || typeof row.unit !== 'string')
      return failureRow(section, `row ${i}`, new Error(`malformed row: ${JSON.stringify(r)?.slice(0, 200)}`));
    return row as BenchRow;
  });
}

async function runSection(file: string, tmpRoot: string): Promise<SectionResult> {
  const base = file.replace(/\.ts$/, '');
  const t0 = Date.now();
  let name = base;
  try {
    const mod = (await import(pathToFileURL(join(SECTIONS, file)).href)) as { default?: unknown };
    if (!isSection(mod.default)) throw new Error(`${file} does not export default a BenchSection ({ name, run })`);
    const section = mod.default;
    name = section.name;
    const dir = join(tmpRoot, base);
    mkdirSync(dir, { recursive: true });
    const ctx: BenchContext = { tmpDir: dir, scale, log: (l) => log(`${name}: ${l}`) };
    log(`${name}: start`);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`section did not finish within ${SECTION_TIMEOUT_MS / 1000} s`)), SECTION_TIMEOUT_MS);
    });
    try {
      const rows = await Promise.race([section.run(ctx), timeout]);
      log(`${name}: done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      return { file, name, ms: Date.now() - t0, rows: checkRows(name, rows) };
    } finally {
      clearTimeout(timer);
    }
  } catch (err) {
    log(`${name}: FAILED: ${err instanceof Error ? err.message : String(err)}`);
    return { file, name, ms: Date.now() - t0, error: String(err), rows: [failureRow(name, 'section', err)] };
  }
}

export function fmt(v: number | undefined): string {
  if (v === undefined) return '';
  if (Number.isNaN(v)) return '—';
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 1000) return Math.round(v).toLocaleString('en-US');
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toPrecision(3);
}

function table(results: SectionResult[]): string {
  const head = ['name', 'value', 'unit', 'baseline', 'ratio', 'target', 'ok'];
  const notes: string[] = [];
  const body: string[][] = [];
  for (const s of results) {
    for (const r of s.rows) {
      let name = r.name;
      if (r.note) {
        notes.push(r.note);
        name += ` [${notes.length}]`;
      }
      body.push([
        name,
        fmt(r.value),
        r.unit,
        fmt(r.baseline),
        r.ratio === undefined ? '' : `${r.ratio >= 10 ? fmt(r.ratio) : r.ratio.toFixed(2)}×`,
        r.target ?? '',
        r.ok === undefined ? '' : r.ok ? 'yes' : 'NO',
      ]);
    }
  }
  const width = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const right = new Set([1, 3, 4]);
  const line = (cells: string[]): string =>
    '| ' + cells.map((c, i) => (right.has(i) ? c.padStart(width[i] ?? 0) : c.padEnd(width[i] ?? 0))).join(' | ') + ' |';
  const sep = '|' + width.map((w, i) => (right.has(i) ? '-'.repeat(w + 1) + ':' : '-'.repeat(w + 2))).join('|') + '|';
  const out = [line(head), sep, ...body.map(line)];
  if (notes.length) out.push('', ...notes.map((n, i) => `[${i + 1}] ${n}`));
  return out.join('\n');
}

async function main(): Promise<void> {
  const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim()).filter(Boolean);
  const files = readdirSync(SECTIONS)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .filter((f) => !only || only.some((o) => f.includes(o)))
    .sort();
  // /tmp may be tmpfs, where /proc/<pid>/io never counts write_bytes: prefer /var/tmp (a disk).
  const tmpRoot = mkdtempSync(join(process.env.BENCH_TMP ?? (existsSync('/var/tmp') ? '/var/tmp' : tmpdir()), 'citygate-bench-'));
  const cpu = cpus();
  log(`citygate bench: ${files.length} section(s) [${files.join(', ')}], scale ${scale}${quick ? ' (BENCH_QUICK)' : ''}, ${cpu.length} × ${cpu[0]?.model ?? '?'}, node ${process.version}`);
  const results: SectionResult[] = [];
  try {
    for (const f of files) results.push(await runSection(f, tmpRoot));
  } finally {
    if (process.env.BENCH_KEEP === '1') log(`scratch kept in ${tmpRoot}`);
    else rmSync(tmpRoot, { recursive: true, force: true });
  }
  const text = table(results);
  const load = loadavg().map((l) => l.toFixed(1)).join(' ');
  const busy = Math.max(loadavgStart[0] ?? 0, loadavg()[0] ?? 0) > cpu.length ? ` — WARNING: load average ${load} on ${cpu.length} CPUs, other work was competing: figures are low` : ` — load ${load}`;
  const header = `citygate bench — ${new Date(started).toISOString()} — node ${process.version}, ${cpu.length} × ${cpu[0]?.model ?? '?'}, scale ${scale}${busy}`;
  process.stdout.write(`\n${header}\n\n${text}\n`);
  const out = process.env.BENCH_OUT ?? join(REPO, 'bench-results.json');
  writeFileSync(
    out,
    JSON.stringify(
      {
        startedAt: new Date(started).toISOString(),
        finishedAt: new Date().toISOString(),
        node: process.version,
        cpus: cpu.length,
        cpuModel: cpu[0]?.model,
        scale,
        quick,
        loadavgStart,
        loadavgEnd: loadavg(),
        sections: results,
      },
      null,
      2,
    ) + '\n',
  );
  log(`wrote ${out}`);
  const missed = results.flatMap((s) => s.rows).filter((r) => r.ok === false);
  if (missed.length) log(`${missed.length} row(s) missed their target or failed`);
  process.exit(process.env.BENCH_STRICT === '1' && missed.length ? 1 : 0);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench runner: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(2);
});

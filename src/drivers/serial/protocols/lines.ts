/**
 * `lines`: a generic protocol for sensors that print one reading per line, parsed either
 * by a regular expression whose named groups become points
 *   regex: '^T=(?<temperature>-?\d+(\.\d+)?) RH=(?<humidity>\d+)'
 * or as CSV columns, `null` for a column to ignore
 *   columns: [temperature, humidity, null]
 *
 * Values: with `convert: auto` (default) a field that looks like a number becomes a
 * number, anything else stays text; `number` makes a non-numeric field null (reported
 * with quality bad, and counted as `parse_errors`); `string` keeps the text.
 * A line the regex does not match, or with fewer CSV fields than named columns, is
 * counted as `lines_unmatched` and produces nothing (sensors print banners at boot).
 */
import type { Value } from '../../../core/reading.js';
import { LineSplitter } from './line-splitter.js';
import type { Decoder, DecoderCounters } from './types.js';

export type Convert = 'auto' | 'number' | 'string';

export interface LinesOptions {
  regex?: string;
  columns?: readonly (string | null)[];
  separator?: string;
  convert?: Convert;
  max_line?: number;
}

/** One parsed line: point name → value (null = present but not a number under `convert: number`). */
export type LineRecord = Record<string, Value | null>;

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

export function convertField(text: string, convert: Convert): Value | null {
  const t = text.trim();
  if (convert === 'string') return t;
  if (NUMBER.test(t)) return Number(t);
  return convert === 'number' ? null : t;
}

/** Splits one CSV line; fields may be quoted with "…" ("" inside is a quote). */
export function splitCsv(line: string, separator: string): string[] {
  const fields: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i] as string;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"' && cur.trim() === '') {
      quoted = true;
      cur = '';
    } else if (line.startsWith(separator, i)) {
      fields.push(cur);
      cur = '';
      i += separator.length - 1;
    } else cur += ch;
  }
  fields.push(cur);
  return fields;
}

/** Names of the named groups of `source` (in order), without compiling it twice. */
export function regexGroupNames(source: string): string[] {
  const names: string[] = [];
  for (const m of source.matchAll(/\(\?<([A-Za-z_$][\w$]*)>/g)) if (!names.includes(m[1] as string)) names.push(m[1] as string);
  return names;
}

/** Point names a lines config produces. */
export function linePointNames(opts: LinesOptions): string[] {
  if (opts.regex !== undefined) return regexGroupNames(opts.regex);
  return (opts.columns ?? []).filter((c): c is string => typeof c === 'string');
}

export function createLineParser(opts: LinesOptions): (line: string) => LineRecord | undefined {
  const convert = opts.convert ?? 'auto';
  if (opts.regex !== undefined) {
    const re = new RegExp(opts.regex);
    return (line) => {
      const m = re.exec(line);
      if (!m?.groups) return undefined;
      const rec: LineRecord = {};
      for (const [name, text] of Object.entries(m.groups)) if (text !== undefined) rec[name] = convertField(text, convert);
      return rec;
    };
  }
  const columns = opts.columns ?? [];
  const separator = opts.separator ?? ',';
  const needed = columns.reduce<number>((n, c, i) => (c === null ? n : i + 1), 0);
  return (line) => {
    const fields = splitCsv(line, separator);
    if (fields.length < needed) return undefined;
    const rec: LineRecord = {};
    columns.forEach((name, i) => {
      if (name !== null) rec[name] = convertField(fields[i] as string, convert);
    });
    return rec;
  };
}

/** Lines decoder: a LineSplitter plus the parser; counters include the splitter's. */
export class LinesDecoder implements Decoder<LineRecord> {
  private readonly splitter: LineSplitter;
  private readonly parse: (line: string) => LineRecord | undefined;
  private readonly extra = { lines_unmatched: 0, parse_errors: 0 };

  constructor(opts: LinesOptions) {
    this.splitter = new LineSplitter(opts.max_line ?? 256);
    this.parse = createLineParser(opts);
  }

  get buffered(): number {
    return this.splitter.buffered;
  }

  get counters(): Readonly<DecoderCounters> {
    const c = this.splitter.counters;
    return { ...c, frames_ok: c.frames_ok - this.extra.lines_unmatched, ...this.extra };
  }

  push(chunk: Uint8Array): LineRecord[] {
    const out: LineRecord[] = [];
    for (const line of this.splitter.push(chunk)) {
      const rec = this.parse(line);
      if (rec === undefined) {
        this.extra.lines_unmatched++;
        continue;
      }
      for (const v of Object.values(rec)) if (v === null) this.extra.parse_errors++;
      out.push(rec);
    }
    return out;
  }
}

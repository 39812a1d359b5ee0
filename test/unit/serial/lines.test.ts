import { describe, expect, it } from 'vitest';
import { LinesDecoder, convertField, linePointNames, splitCsv } from '../../../src/drivers/serial/protocols/lines.js';
import { LineSplitter } from '../../../src/drivers/serial/protocols/line-splitter.js';
import { createProtocol } from '../../../src/drivers/serial/protocols/index.js';
import { LINES_STREAM } from './fixtures.js';

const bytes = (s: string) => Uint8Array.from(Buffer.from(s, 'utf8'));
const REGEX = '^T=(?<temperature>-?\\d+(\\.\\d+)?) RH=(?<humidity>\\d+)$';

describe('line splitter', () => {
  it('splits on LF, CR and CRLF and skips empty lines', () => {
    const s = new LineSplitter(64);
    expect(s.push(bytes('a\r\nb\nc\rd'))).toEqual(['a', 'b', 'c']);
    expect(s.buffered).toBe(1);
    expect(s.push(bytes('\n'))).toEqual(['d']);
    expect(s.counters).toEqual({ frames_ok: 4, checksum_failures: 0, resyncs: 0, bytes_discarded: 0 });
  });

  it('discards an overlong line up to the next line end, as one resync', () => {
    const s = new LineSplitter(8);
    expect(s.push(bytes(`${'x'.repeat(20)}\nok\n`))).toEqual(['ok']);
    expect(s.counters).toMatchObject({ resyncs: 1, bytes_discarded: 20, frames_ok: 1 });
    expect(s.buffered).toBe(0);
  });

  it('decodes UTF-8 and survives invalid bytes', () => {
    const s = new LineSplitter();
    expect(s.push(Uint8Array.from([...bytes('25 °C'), 0x0a, 0xff, 0xfe, 0x0a]))).toEqual(['25 °C', '\ufffd\ufffd']);
  });
});

describe('lines: regex', () => {
  it('named groups become points; banners and errors are unmatched', () => {
    const d = new LinesDecoder({ regex: REGEX });
    expect(d.push(LINES_STREAM)).toEqual([
      { temperature: 21.5, humidity: 40 },
      { temperature: -3.25, humidity: 97 },
      { temperature: 22, humidity: 41 },
    ]);
    expect(d.counters).toMatchObject({ frames_ok: 3, lines_unmatched: 2, parse_errors: 0 });
  });

  it('optional groups that did not take part are left out', () => {
    const d = new LinesDecoder({ regex: '^(?<a>\\d+)(,(?<b>\\d+))?$' });
    expect(d.push(bytes('1\n2,3\n'))).toEqual([{ a: 1 }, { a: 2, b: 3 }]);
  });

  it('lists its point names from the groups', () => {
    expect(linePointNames({ regex: REGEX })).toEqual(['temperature', 'humidity']);
  });
});

describe('lines: csv', () => {
  it('maps columns, skipping null ones, with auto conversion', () => {
    const d = new LinesDecoder({ columns: ['id', null, 'level', 'state'] });
    expect(d.push(bytes('7,ignored,12.5,OPEN\nshort,1\n'))).toEqual([{ id: 7, level: 12.5, state: 'OPEN' }]);
    expect(d.counters).toMatchObject({ frames_ok: 1, lines_unmatched: 1 });
  });

  it('convert: number turns text into null (quality bad) and counts it', () => {
    const p = createProtocol('lines', { lines: { columns: ['level'], convert: 'number' } });
    expect(p.push(bytes('n/a\n3e2\n'), 0)).toEqual([[{ point: 'level', value: null, quality: 'bad' }], [{ point: 'level', value: 300 }]]);
    expect(p.counters().parse_errors).toBe(1);
  });

  it('quoted fields and multi-character separators', () => {
    expect(splitCsv('"a, b","say ""hi""",3', ',')).toEqual(['a, b', 'say "hi"', '3']);
    expect(splitCsv('1; 2;;3', '; ')).toEqual(['1', '2;;3']);
    expect(splitCsv('1\t2', '\t')).toEqual(['1', '2']);
  });

  it('converts fields', () => {
    expect(convertField(' 42 ', 'auto')).toBe(42);
    expect(convertField('-.5', 'auto')).toBe(-0.5);
    expect(convertField('1e3', 'auto')).toBe(1000);
    expect(convertField('0x10', 'auto')).toBe('0x10');
    expect(convertField('42', 'string')).toBe('42');
    expect(convertField('', 'number')).toBeNull();
  });
});

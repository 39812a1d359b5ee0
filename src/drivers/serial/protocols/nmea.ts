/**
 * NMEA 0183 sentence framing: `$<address>,<fields…>*<hh>\r\n` (also `!` for AIS-style
 * encapsulation). This file owns only framing and the checksum; nmea-fix.ts turns GGA
 * and RMC sentences into positions and time.
 *
 * - The checksum is the XOR of every character between `$` and `*`, as two hex digits.
 *   A sentence without one cannot be trusted and counts as a checksum failure.
 * - A sentence is printable ASCII and at most 82 characters by the standard; receivers
 *   with long proprietary sentences exceed that, so we allow MAX_SENTENCE. Longer runs,
 *   control characters or a new `$` before the line ended mean the line was corrupted:
 *   its bytes are discarded and counted, and decoding resumes at the next `$`.
 * - CR and LF between sentences are separators, not garbage.
 */
import { DiscardTracker, zeroCounters, type Decoder, type DecoderCounters } from './types.js';

export const MAX_SENTENCE = 128;

export interface NmeaSentence {
  /** Talker id ("GP" GPS, "GN" multi-constellation, "GL", "GA", "GB"/"BD"), or "P" for proprietary. */
  talker: string;
  /** Sentence type: "GGA", "RMC", "GSV" … */
  type: string;
  /** Fields after the address, as text (empty string for an empty field). */
  fields: string[];
}

const DOLLAR = 0x24;
const BANG = 0x21;
const CR = 0x0d;
const LF = 0x0a;

export function nmeaChecksum(body: string): number {
  let x = 0;
  for (let k = 0; k < body.length; k++) x ^= body.charCodeAt(k);
  return x;
}

/**
 * 'ok' with the sentence, or why it was rejected. Pure; `line` excludes CR/LF.
 * Something that does not even start like a sentence (`$` + address + `,`) is 'format';
 * a sentence-shaped line with a missing or wrong checksum is 'checksum'.
 */
export function parseSentence(line: string): { ok: true; sentence: NmeaSentence } | { ok: false; why: 'checksum' | 'format' } {
  const comma = line.indexOf(',');
  const address = comma < 0 ? '' : line.slice(1, comma);
  if (!/^[A-Z0-9]{3,}$/.test(address)) return { ok: false, why: 'format' };
  const star = line.lastIndexOf('*');
  if (star < 0 || star !== line.length - 3) return { ok: false, why: 'checksum' };
  const hh = line.slice(star + 1);
  if (!/^[0-9A-Fa-f]{2}$/.test(hh) || Number.parseInt(hh, 16) !== nmeaChecksum(line.slice(1, star))) return { ok: false, why: 'checksum' };
  const proprietary = address.startsWith('P');
  return {
    ok: true,
    sentence: {
      talker: proprietary ? 'P' : address.slice(0, 2),
      type: proprietary ? address.slice(1) : address.slice(2),
      fields: line.slice(comma + 1, star).split(','),
    },
  };
}

export class NmeaDecoder implements Decoder<NmeaSentence> {
  readonly counters: DecoderCounters = zeroCounters();
  private readonly discards = new DiscardTracker(this.counters);
  private readonly line = new Uint8Array(MAX_SENTENCE);
  private len = 0;
  private inSentence = false;

  get buffered(): number {
    return this.len;
  }

  push(chunk: Uint8Array): NmeaSentence[] {
    const out: NmeaSentence[] = [];
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i] as number;
      if (c === DOLLAR || c === BANG) {
        if (this.inSentence) this.drop(); // a new sentence began before the last one ended
        this.inSentence = true;
        this.line[0] = c;
        this.len = 1;
      } else if (c === CR || c === LF) {
        if (this.inSentence) this.finish(out);
      } else if (!this.inSentence) {
        this.discards.discard();
      } else if (c < 0x20 || c > 0x7e || this.len >= MAX_SENTENCE) {
        this.drop();
        this.discards.discard();
      } else {
        this.line[this.len++] = c;
      }
    }
    return out;
  }

  private finish(out: NmeaSentence[]): void {
    let text = '';
    for (let k = 0; k < this.len; k++) text += String.fromCharCode(this.line[k] as number);
    const r = parseSentence(text);
    if (r.ok) {
      out.push(r.sentence);
      this.counters.frames_ok++;
      this.discards.aligned();
      this.inSentence = false;
      this.len = 0;
      return;
    }
    if (r.why === 'checksum') this.counters.checksum_failures++;
    this.drop();
  }

  private drop(): void {
    this.discards.discard(this.len);
    this.inSentence = false;
    this.len = 0;
  }
}

export function createNmeaDecoder(): NmeaDecoder {
  return new NmeaDecoder();
}

/** `$<body>*hh\r\n` with a correct checksum (tests, benchmarks). */
export function encodeNmea(body: string): string {
  return `$${body}*${nmeaChecksum(body).toString(16).toUpperCase().padStart(2, '0')}\r\n`;
}

/**
 * Text for `citygate probe serial`: decoded frames as one line each, raw bytes as a
 * hexdump (offset, 16 bytes in hex, printable ASCII) so a technician can tell a wrong
 * baud rate (noise) from a text sensor (readable) from a binary one (repeating headers).
 * Pure functions; the CLI owns the I/O.
 */
import type { Sample } from '../../core/reading.js';
import { FIXED_POINTS, type ProtocolName } from './points.js';

const UNITS = new Map<string, string>(
  Object.values(FIXED_POINTS).flatMap((pts) => pts.filter((p) => p.unit).map((p) => [p.name, p.unit as string] as [string, string])),
);

function show(v: Sample['value']): string {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Number(v.toFixed(6)));
  if (v === null) return 'null';
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

/** "12:00:01.250  pm2_5=8 µg/m3  pm10=9 µg/m3" */
export function formatFrame(protocol: ProtocolName, samples: readonly Sample[], at: Date): string {
  const time = at.toISOString().slice(11, 23);
  const unit = (p: string): string => {
    const u = protocol === 'lines' ? undefined : UNITS.get(p);
    return u ? ` ${u}` : '';
  };
  const fields = samples.map((s) => `${s.point}=${show(s.value)}${unit(s.point)}${s.quality && s.quality !== 'good' ? ` (${s.quality})` : ''}`);
  return `${time}  ${fields.length ? fields.join('  ') : '(frame without readings)'}`;
}

/** One hexdump line: `00000010  42 4d 00 1c …  |BM..|`. */
export function hexdumpLine(offset: number, bytes: Uint8Array): string {
  const hex: string[] = [];
  for (let i = 0; i < 16; i++) {
    hex.push(i < bytes.length ? (bytes[i] as number).toString(16).padStart(2, '0') : '  ');
    if (i === 7) hex.push('');
  }
  let ascii = '';
  for (const b of bytes) ascii += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
  return `${offset.toString(16).padStart(8, '0')}  ${hex.join(' ')}  |${ascii}|`;
}

/**
 * Groups arbitrary chunks into 16-byte hexdump lines. `push` returns the complete lines;
 * `flush` the last partial one.
 */
export class Hexdump {
  private offset = 0;
  private pending: number[] = [];

  push(chunk: Uint8Array): string[] {
    const out: string[] = [];
    for (const b of chunk) {
      this.pending.push(b);
      if (this.pending.length === 16) out.push(this.line());
    }
    return out;
  }

  flush(): string[] {
    return this.pending.length ? [this.line()] : [];
  }

  private line(): string {
    const s = hexdumpLine(this.offset, Uint8Array.from(this.pending));
    this.offset += this.pending.length;
    this.pending = [];
    return s;
  }
}

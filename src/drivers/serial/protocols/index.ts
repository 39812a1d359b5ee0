/**
 * From bytes to samples, per protocol: a pure decoder (this folder) plus the mapping of
 * its frames to samples. `push(chunk, now)` returns one sample array per completed
 * frame; `now` (wall-clock ms at receipt) is only used for `clock_offset_ms`.
 */
import type { Sample } from '../../../core/reading.js';
import type { ProtocolName } from '../points.js';
import { LinesDecoder, type LinesOptions } from './lines.js';
import { createNmeaDecoder } from './nmea.js';
import { parseFix } from './nmea-fix.js';
import { createPms5003Decoder } from './pms5003.js';
import { createSds011Decoder } from './sds011.js';
import type { DecoderCounters } from './types.js';

export interface Protocol {
  readonly name: ProtocolName;
  push(chunk: Uint8Array, now: number): Sample[][];
  counters(): Readonly<DecoderCounters>;
}

export interface ProtocolOptions {
  lines?: LinesOptions;
  /** nmea: emit clock_offset_ms from RMC (default true). */
  clockOffset?: boolean;
}

function numbers(rec: object): Sample[] {
  const out: Sample[] = [];
  for (const [point, value] of Object.entries(rec)) if (typeof value === 'number') out.push({ point, value });
  return out;
}

export function createProtocol(name: ProtocolName, opts: ProtocolOptions = {}): Protocol {
  switch (name) {
    case 'pms5003': {
      const d = createPms5003Decoder();
      return { name, push: (chunk) => d.push(chunk).map(numbers), counters: () => d.counters };
    }
    case 'sds011': {
      const d = createSds011Decoder();
      return {
        name,
        push: (chunk) =>
          d.push(chunk).flatMap((f) => (f.kind === 'data' ? [[{ point: 'pm2_5', value: f.pm2_5 }, { point: 'pm10', value: f.pm10 }]] : [])),
        counters: () => d.counters,
      };
    }
    case 'nmea':
      return nmeaProtocol(opts.clockOffset ?? true);
    case 'lines': {
      const d = new LinesDecoder(opts.lines ?? {});
      return {
        name,
        push: (chunk) =>
          d.push(chunk).map((rec) =>
            Object.entries(rec).map(([point, value]): Sample => (value === null ? { point, value, quality: 'bad' } : { point, value })),
          ),
        counters: () => d.counters,
      };
    }
  }
}

function nmeaProtocol(clockOffset: boolean): Protocol {
  const d = createNmeaDecoder();
  // Position comes from GGA (it has altitude and fix quality); RMC supplies it only for
  // receivers configured without GGA, so a normal receiver does not report it twice.
  let seenGga = false;
  return {
    name: 'nmea',
    counters: () => d.counters,
    push(chunk, now) {
      const out: Sample[][] = [];
      for (const sentence of d.push(chunk)) {
        const fix = parseFix(sentence);
        if (!fix) continue;
        const s: Sample[] = [];
        if (fix.kind === 'gga') {
          seenGga = true;
          s.push({ point: 'fix_quality', value: fix.fix_quality });
          if (fix.satellites !== undefined) s.push({ point: 'satellites', value: fix.satellites });
          if (fix.hdop !== undefined) s.push({ point: 'hdop', value: fix.hdop });
          if (fix.latitude !== undefined && fix.longitude !== undefined) {
            s.push({ point: 'latitude', value: fix.latitude }, { point: 'longitude', value: fix.longitude });
          }
          if (fix.altitude !== undefined) s.push({ point: 'altitude', value: fix.altitude });
        } else {
          s.push({ point: 'fix_valid', value: fix.valid });
          if (!seenGga && fix.latitude !== undefined && fix.longitude !== undefined) {
            s.push({ point: 'latitude', value: fix.latitude }, { point: 'longitude', value: fix.longitude });
          }
          if (fix.speed !== undefined) s.push({ point: 'speed', value: fix.speed });
          if (fix.course !== undefined) s.push({ point: 'course', value: fix.course });
          if (clockOffset && fix.valid && fix.utc !== undefined) s.push({ point: 'clock_offset_ms', value: fix.utc - now });
        }
        out.push(s);
      }
      return out;
    },
  };
}

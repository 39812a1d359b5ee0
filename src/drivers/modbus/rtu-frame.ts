/**
 * Modbus RTU framing: unit + PDU + CRC-16 (poly 0xA001, init 0xFFFF, low byte first).
 * Pure functions of bytes.
 *
 * `parseRtuResponse` hunts for the answer inside whatever the line delivered: on a
 * real RS-485 bus the reply is often preceded by a stray byte from the driver
 * turnaround, or followed by the tail of a late answer from a slave we already gave
 * up on. It accepts the first candidate at any offset whose unit, function code,
 * length and CRC all match, so one noise byte costs nothing, and it reports *why* a
 * buffer is unusable (crc, garbage, truncated) so health can count it.
 */
const TABLE = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xa001 : c >>> 1;
    t[i] = c;
  }
  return t;
})();

export function crc16(buf: Uint8Array, start = 0, end = buf.length): number {
  let crc = 0xffff;
  for (let i = start; i < end; i++) crc = (crc >>> 8) ^ (TABLE[(crc ^ (buf[i] as number)) & 0xff] as number);
  return crc;
}

export function buildRtuFrame(unit: number, pdu: Buffer): Buffer {
  const f = Buffer.alloc(pdu.length + 3);
  f[0] = unit;
  pdu.copy(f, 1);
  f.writeUInt16LE(crc16(f, 0, f.length - 2), f.length - 2);
  return f;
}

/** True if `frame` (unit + PDU + CRC) carries a correct CRC. */
export function rtuCrcOk(frame: Uint8Array): boolean {
  if (frame.length < 4) return false;
  const n = frame.length;
  return crc16(frame, 0, n - 2) === ((frame[n - 2] as number) | ((frame[n - 1] as number) << 8));
}

export type RtuParse =
  | { kind: 'frame'; pdu: Buffer; skipped: number; end: number }
  | { kind: 'need-more'; candidate: boolean }
  | { kind: 'bad'; fault: 'crc' | 'garbage'; detail: string };

/**
 * Look in `buf` for the response from `unit` to function `fc`, whose normal PDU is
 * `pduLength` bytes (an exception PDU is 2). `need-more` means a candidate has begun
 * but is incomplete (`candidate: true`: a truncated frame if nothing more comes), or
 * too few bytes have arrived to judge (`candidate: false`: garbage if nothing more comes).
 */
export function parseRtuResponse(buf: Buffer, unit: number, fc: number, pduLength: number): RtuParse {
  let incomplete = false;
  let crcBad = false;
  for (let i = 0; i < buf.length; i++) {
    if (buf[i] !== unit) continue;
    if (i + 1 >= buf.length) {
      incomplete = true;
      break;
    }
    const f = buf[i + 1];
    const plen = f === fc ? pduLength : f === (fc | 0x80) ? 2 : -1;
    if (plen < 0) continue;
    const end = i + 1 + plen + 2;
    if (end > buf.length) {
      incomplete = true;
      continue;
    }
    if (!rtuCrcOk(buf.subarray(i, end))) {
      crcBad = true;
      continue;
    }
    // A read's byte count must agree with what we asked for; otherwise the CRC
    // matched by accident inside a longer frame.
    if (plen === pduLength && (fc <= 4) && buf[i + 2] !== pduLength - 2) continue;
    return { kind: 'frame', pdu: Buffer.from(buf.subarray(i + 1, i + 1 + plen)), skipped: i, end };
  }
  if (incomplete) return { kind: 'need-more', candidate: true };
  if (crcBad) return { kind: 'bad', fault: 'crc', detail: 'CRC mismatch' };
  if (buf.length >= pduLength + 3) {
    return { kind: 'bad', fault: 'garbage', detail: `${buf.length} bytes without a frame from unit ${unit}` };
  }
  return { kind: 'need-more', candidate: false };
}

/** Modbus RTU's silent interval: 3.5 character times (11 bits each), 1.75 ms above 19200 baud (spec §2.5.1.1). */
export function interFrameMs(baud: number): number {
  if (baud > 19200) return 1.75;
  return (3.5 * 11 * 1000) / baud;
}

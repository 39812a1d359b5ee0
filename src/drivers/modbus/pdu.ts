/**
 * Modbus PDUs (function code + data) as pure functions of bytes: building requests,
 * the length a well-formed response must have, and decoding responses. Framing (RTU
 * CRC, TCP MBAP) lives in rtu-frame.ts and tcp-frame.ts; nothing here does I/O.
 */
import { ModbusExceptionError } from './errors.js';

export const TABLES = ['coil', 'discrete', 'input', 'holding'] as const;
export type Table = (typeof TABLES)[number];

/** Read function code per table. */
export const READ_FC: Readonly<Record<Table, number>> = { coil: 1, discrete: 2, holding: 3, input: 4 };

/** Most items one read may ask for (Modbus Application Protocol v1.1b3, §6.1–6.4). */
export const READ_LIMIT: Readonly<Record<Table, number>> = { coil: 2000, discrete: 2000, holding: 125, input: 125 };

export const isBitTable = (t: Table): boolean => t === 'coil' || t === 'discrete';

export type ModbusRequest =
  | { kind: 'read'; table: Table; address: number; count: number }
  | { kind: 'write-coil'; address: number; value: boolean }
  | { kind: 'write-register'; address: number; value: number }
  | { kind: 'write-coils'; address: number; values: readonly boolean[] }
  | { kind: 'write-registers'; address: number; values: readonly number[] };

/** A decoded normal response: register values (uint16) or bits. Writes return []. */
export type ModbusData = number[] | boolean[];

export function functionCode(req: ModbusRequest): number {
  switch (req.kind) {
    case 'read':
      return READ_FC[req.table];
    case 'write-coil':
      return 5;
    case 'write-register':
      return 6;
    case 'write-coils':
      return 15;
    case 'write-registers':
      return 16;
  }
}

export function encodeRequest(req: ModbusRequest): Buffer {
  const fc = functionCode(req);
  switch (req.kind) {
    case 'read': {
      const b = Buffer.alloc(5);
      b.writeUInt8(fc, 0);
      b.writeUInt16BE(req.address, 1);
      b.writeUInt16BE(req.count, 3);
      return b;
    }
    case 'write-coil':
      return Buffer.from([fc, req.address >> 8, req.address & 0xff, req.value ? 0xff : 0, 0]);
    case 'write-register': {
      const b = Buffer.alloc(5);
      b.writeUInt8(fc, 0);
      b.writeUInt16BE(req.address, 1);
      b.writeUInt16BE(req.value & 0xffff, 3);
      return b;
    }
    case 'write-coils': {
      const bytes = packBits(req.values);
      const b = Buffer.alloc(6 + bytes.length);
      b.writeUInt8(fc, 0);
      b.writeUInt16BE(req.address, 1);
      b.writeUInt16BE(req.values.length, 3);
      b.writeUInt8(bytes.length, 5);
      bytes.copy(b, 6);
      return b;
    }
    case 'write-registers': {
      const b = Buffer.alloc(6 + req.values.length * 2);
      b.writeUInt8(fc, 0);
      b.writeUInt16BE(req.address, 1);
      b.writeUInt16BE(req.values.length, 3);
      b.writeUInt8(req.values.length * 2, 5);
      req.values.forEach((v, i) => b.writeUInt16BE(v & 0xffff, 6 + 2 * i));
      return b;
    }
  }
}

/** Length in bytes of the normal (non-exception) response PDU to `req`. */
export function responseLength(req: ModbusRequest): number {
  if (req.kind !== 'read') return 5;
  return isBitTable(req.table) ? 2 + Math.ceil(req.count / 8) : 2 + 2 * req.count;
}

/**
 * Decode a response PDU to `req`. Throws ModbusExceptionError for an exception
 * response, and a plain Error (a framing fault: wrong function code, length or echo)
 * for anything malformed.
 */
export function decodeResponse(req: ModbusRequest, pdu: Buffer): ModbusData {
  const fc = functionCode(req);
  const got = pdu[0];
  if (got === (fc | 0x80) && pdu.length === 2) throw new ModbusExceptionError(pdu[1] ?? 0, fc);
  if (got !== fc) throw new Error(`response has function code ${got ?? 'none'}, expected ${fc}`);
  if (pdu.length !== responseLength(req)) throw new Error(`response PDU is ${pdu.length} bytes, expected ${responseLength(req)}`);
  if (req.kind === 'read') {
    if (pdu[1] !== pdu.length - 2) throw new Error(`byte count ${pdu[1]} does not match ${pdu.length - 2} data bytes`);
    if (isBitTable(req.table)) return unpackBits(pdu.subarray(2), req.count);
    const out: number[] = new Array(req.count);
    for (let i = 0; i < req.count; i++) out[i] = pdu.readUInt16BE(2 + 2 * i);
    return out;
  }
  // Writes echo the address (and value or quantity); a different echo means the
  // slave did something else than asked.
  const echo = encodeRequest(req).subarray(0, 5);
  if (!echo.equals(pdu)) throw new Error('write response does not echo the request');
  return [];
}

/** Bits LSB-first within each byte, as Modbus packs coils. */
export function packBits(values: readonly boolean[]): Buffer {
  const b = Buffer.alloc(Math.ceil(values.length / 8));
  values.forEach((v, i) => {
    if (v) b[i >> 3] = (b[i >> 3] ?? 0) | (1 << (i & 7));
  });
  return b;
}

export function unpackBits(bytes: Buffer, count: number): boolean[] {
  const out: boolean[] = new Array(count);
  for (let i = 0; i < count; i++) out[i] = (((bytes[i >> 3] ?? 0) >> (i & 7)) & 1) === 1;
  return out;
}

/** Human description of a request, for errors and `--explain`. */
export function describeRequest(req: ModbusRequest): string {
  const fc = functionCode(req).toString().padStart(2, '0');
  switch (req.kind) {
    case 'read':
      return `FC${fc} read ${req.table} ${req.address}${req.count > 1 ? `-${req.address + req.count - 1}` : ''} (${req.count})`;
    case 'write-coil':
    case 'write-register':
      return `FC${fc} write ${req.kind === 'write-coil' ? 'coil' : 'holding'} ${req.address}`;
    case 'write-coils':
    case 'write-registers':
      return `FC${fc} write ${req.kind === 'write-coils' ? 'coils' : 'holding'} ${req.address}-${req.address + req.values.length - 1}`;
  }
}

/**
 * An in-memory Modbus slave: four tables of 65,536 items and the standard read/write
 * function codes, answering a request PDU with a response PDU (or an exception).
 * Used by the in-process servers beside it: tests and the benchmark talk to a
 * real protocol peer instead of a mocked library (docs/architecture.md#fakes-and-contract-suites).
 */
import { packBits, unpackBits, type Table } from '../pdu.js';

export class ModbusSlave {
  readonly coil = new Uint8Array(65_536);
  readonly discrete = new Uint8Array(65_536);
  readonly input = new Uint16Array(65_536);
  readonly holding = new Uint16Array(65_536);
  /** Addresses that answer "illegal data address" (per table), to script holes. */
  readonly holes: Record<Table, Set<number>> = { coil: new Set(), discrete: new Set(), input: new Set(), holding: new Set() };
  /** Requests handled, for tests that count round trips. */
  requests = 0;

  setRegisters(table: 'input' | 'holding', address: number, values: readonly number[]): void {
    values.forEach((v, i) => (this[table][address + i] = v & 0xffff));
  }

  setBits(table: 'coil' | 'discrete', address: number, values: readonly boolean[]): void {
    values.forEach((v, i) => (this[table][address + i] = v ? 1 : 0));
  }

  private legal(table: Table, address: number, count: number): boolean {
    if (address + count > 65_536) return false;
    const holes = this.holes[table];
    if (holes.size === 0) return true;
    for (let a = address; a < address + count; a++) if (holes.has(a)) return false;
    return true;
  }

  /** Answer one request PDU. */
  handle(pdu: Buffer): Buffer {
    this.requests++;
    const fc = pdu[0] ?? 0;
    const ex = (code: number): Buffer => Buffer.from([fc | 0x80, code]);
    if (pdu.length < 5) return ex(3);
    const address = pdu.readUInt16BE(1);
    const n = pdu.readUInt16BE(3);
    switch (fc) {
      case 1:
      case 2: {
        const table = fc === 1 ? 'coil' : 'discrete';
        if (n < 1 || n > 2000) return ex(3);
        if (!this.legal(table, address, n)) return ex(2);
        const bits = packBits(Array.from(this[table].subarray(address, address + n), (b) => b === 1));
        return Buffer.concat([Buffer.from([fc, bits.length]), bits]);
      }
      case 3:
      case 4: {
        const table = fc === 3 ? 'holding' : 'input';
        if (n < 1 || n > 125) return ex(3);
        if (!this.legal(table, address, n)) return ex(2);
        const out = Buffer.alloc(2 + 2 * n);
        out[0] = fc;
        out[1] = 2 * n;
        for (let i = 0; i < n; i++) out.writeUInt16BE(this[table][address + i] ?? 0, 2 + 2 * i);
        return out;
      }
      case 5: {
        if (n !== 0xff00 && n !== 0) return ex(3);
        if (!this.legal('coil', address, 1)) return ex(2);
        this.coil[address] = n === 0xff00 ? 1 : 0;
        return Buffer.from(pdu.subarray(0, 5));
      }
      case 6:
        if (!this.legal('holding', address, 1)) return ex(2);
        this.holding[address] = n;
        return Buffer.from(pdu.subarray(0, 5));
      case 15: {
        const bytes = pdu[5] ?? 0;
        if (n < 1 || n > 1968 || bytes !== Math.ceil(n / 8) || pdu.length !== 6 + bytes) return ex(3);
        if (!this.legal('coil', address, n)) return ex(2);
        unpackBits(pdu.subarray(6), n).forEach((b, i) => (this.coil[address + i] = b ? 1 : 0));
        return Buffer.from(pdu.subarray(0, 5));
      }
      case 16: {
        if (n < 1 || n > 123 || pdu[5] !== 2 * n || pdu.length !== 6 + 2 * n) return ex(3);
        if (!this.legal('holding', address, n)) return ex(2);
        for (let i = 0; i < n; i++) this.holding[address + i] = pdu.readUInt16BE(6 + 2 * i);
        return Buffer.from(pdu.subarray(0, 5));
      }
      default:
        return ex(1);
    }
  }
}

/** A scripted misbehaviour for one request (see the servers). */
export type Fault =
  | { kind: 'silent' }
  | { kind: 'delay'; ms: number }
  | { kind: 'garbage'; bytes?: Buffer }
  | { kind: 'truncate'; keep: number }
  | { kind: 'bad-crc' }
  | { kind: 'exception'; code: number }
  | { kind: 'noise-prefix'; bytes: Buffer };

/** Decides, per request, whether to misbehave. `undefined` = answer normally. */
export type FaultScript = (unit: number, pdu: Buffer) => Fault | undefined;

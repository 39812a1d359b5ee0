import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { buildRtuFrame, crc16, interFrameMs, parseRtuResponse, rtuCrcOk } from '../../../src/drivers/modbus/rtu-frame.js';
import { buildTcpFrame, parseTcpFrame } from '../../../src/drivers/modbus/tcp-frame.js';
import { decodeResponse, encodeRequest, packBits, responseLength, unpackBits } from '../../../src/drivers/modbus/pdu.js';
import { ModbusExceptionError } from '../../../src/drivers/modbus/errors.js';

const h = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('RTU framing', () => {
  it('computes the CRC of the spec example (read 10 holding registers from unit 1: C5 CD)', () => {
    expect(buildRtuFrame(1, h('03 0000 000a')).toString('hex')).toBe('01030000000ac5cd');
    expect(crc16(h('01 03 00 00 00 0a'))).toBe(0xcdc5);
    expect(rtuCrcOk(h('01030000000ac5cd'))).toBe(true);
    expect(rtuCrcOk(h('01030000000ac5ce'))).toBe(false);
  });

  const reply = buildRtuFrame(1, h('03 04 4366 8000'));

  it('finds a reply, also after noise bytes, and reports what it skipped', () => {
    expect(parseRtuResponse(reply, 1, 3, 6)).toMatchObject({ kind: 'frame', skipped: 0, end: reply.length });
    const noisy = Buffer.concat([h('00 ff 01'), reply]);
    const r = parseRtuResponse(noisy, 1, 3, 6);
    expect(r).toMatchObject({ kind: 'frame', skipped: 3 });
    if (r.kind === 'frame') expect(r.pdu.toString('hex')).toBe('030443668000');
  });

  it('waits for the rest of a frame split across reads', () => {
    for (let cut = 0; cut < reply.length; cut++) expect(parseRtuResponse(reply.subarray(0, cut), 1, 3, 6).kind).toBe('need-more');
  });

  it('reports a CRC error on a complete frame from our slave', () => {
    const bad = Buffer.from(reply);
    bad[4] = (bad[4] ?? 0) ^ 1;
    expect(parseRtuResponse(bad, 1, 3, 6)).toMatchObject({ kind: 'bad', fault: 'crc' });
  });

  it('reports garbage once enough bytes arrived without any frame', () => {
    expect(parseRtuResponse(h('55aa55aa55aa55aa55'), 1, 3, 6)).toMatchObject({ kind: 'bad', fault: 'garbage' });
    expect(parseRtuResponse(h('55aa'), 1, 3, 6).kind).toBe('need-more');
  });

  it('recognises exception replies', () => {
    const ex = buildRtuFrame(1, h('83 02'));
    const r = parseRtuResponse(ex, 1, 3, 6);
    expect(r.kind).toBe('frame');
    if (r.kind === 'frame') expect(() => decodeResponse({ kind: 'read', table: 'holding', address: 0, count: 2 }, r.pdu)).toThrow(ModbusExceptionError);
  });

  it('ignores a valid frame from another unit', () => {
    const other = buildRtuFrame(2, h('03 04 0000 0000'));
    expect(parseRtuResponse(Buffer.concat([other, reply]), 1, 3, 6)).toMatchObject({ kind: 'frame', skipped: other.length });
  });

  it('never throws and never returns a frame with a bad CRC, whatever the bytes (fuzz)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.integer({ min: 1, max: 247 }), (bytes, unit) => {
        const r = parseRtuResponse(Buffer.from(bytes), unit, 3, 6);
        if (r.kind === 'frame') expect(rtuCrcOk(Buffer.from(bytes).subarray(r.skipped, r.end))).toBe(true);
      }),
    );
  });

  it('derives the 3.5-character silence from the baud rate', () => {
    expect(interFrameMs(9600)).toBeCloseTo(4.01, 2);
    expect(interFrameMs(115200)).toBe(1.75);
  });
});

describe('TCP framing', () => {
  it('builds and parses MBAP frames, also several per chunk and split ones', () => {
    const a = buildTcpFrame(7, 1, h('03 02 0102'));
    expect(a.toString('hex')).toBe('000700000005010302' + '0102');
    const b = buildTcpFrame(8, 2, h('83 02'));
    const both = Buffer.concat([a, b]);
    const r1 = parseTcpFrame(both);
    expect(r1).toMatchObject({ kind: 'frame', tid: 7, unit: 1 });
    if (r1.kind !== 'frame') return;
    expect(parseTcpFrame(both.subarray(r1.end))).toMatchObject({ kind: 'frame', tid: 8, unit: 2 });
    expect(parseTcpFrame(a.subarray(0, 8)).kind).toBe('need-more');
  });

  it('rejects headers that cannot be Modbus', () => {
    expect(parseTcpFrame(h('0001 0001 0005 01 030200'))).toMatchObject({ kind: 'bad' });
    expect(parseTcpFrame(h('0001 0000 0400 01 030200'))).toMatchObject({ kind: 'bad' });
  });
});

describe('PDUs', () => {
  it('encodes requests as the spec shows', () => {
    expect(encodeRequest({ kind: 'read', table: 'input', address: 8, count: 1 }).toString('hex')).toBe('0400080001');
    expect(encodeRequest({ kind: 'write-coil', address: 172, value: true }).toString('hex')).toBe('0500acff00');
    expect(encodeRequest({ kind: 'write-register', address: 1, value: 3 }).toString('hex')).toBe('0600010003');
    expect(encodeRequest({ kind: 'write-registers', address: 1, values: [0x000a, 0x0102] }).toString('hex')).toBe('100001000204000a0102');
    expect(encodeRequest({ kind: 'write-coils', address: 19, values: [true, false, true, true, false, false, true, true, true, false] }).toString('hex')).toBe(
      '0f0013000a02cd01',
    );
  });

  it('decodes reads and checks lengths and echoes', () => {
    const req = { kind: 'read', table: 'coil', address: 19, count: 19 } as const;
    expect(responseLength(req)).toBe(5);
    expect(decodeResponse(req, h('01 03 cd6b05')).slice(0, 4)).toEqual([true, false, true, true]);
    expect(() => decodeResponse({ kind: 'read', table: 'holding', address: 0, count: 2 }, h('03 02 0001'))).toThrow(/expected 6/);
    expect(() => decodeResponse({ kind: 'write-register', address: 1, value: 3 }, h('06 0001 0004'))).toThrow(/echo/);
  });

  it('packs bits LSB first (round trip)', () => {
    fc.assert(fc.property(fc.array(fc.boolean(), { maxLength: 2000 }), (bits) => {
      expect(unpackBits(packBits(bits), bits.length)).toEqual(bits);
    }));
  });
});

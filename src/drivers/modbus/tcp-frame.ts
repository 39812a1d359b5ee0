/**
 * Modbus TCP framing: the MBAP header (transaction id, protocol id 0, length, unit)
 * followed by the PDU. Pure functions of bytes.
 *
 * TCP is a byte stream, so one `data` event may hold half a frame or three; the
 * parser reports how far it consumed. A header that cannot be Modbus (protocol id
 * not 0, impossible length) means the stream lost sync: the only safe recovery on
 * TCP is to drop the connection, which the bus layer does.
 */
export const MBAP_LENGTH = 7;

export function buildTcpFrame(tid: number, unit: number, pdu: Buffer): Buffer {
  const f = Buffer.alloc(MBAP_LENGTH + pdu.length);
  f.writeUInt16BE(tid & 0xffff, 0);
  f.writeUInt16BE(0, 2);
  f.writeUInt16BE(pdu.length + 1, 4);
  f.writeUInt8(unit, 6);
  pdu.copy(f, MBAP_LENGTH);
  return f;
}

export type TcpParse =
  | { kind: 'frame'; tid: number; unit: number; pdu: Buffer; end: number }
  | { kind: 'need-more' }
  | { kind: 'bad'; detail: string };

export function parseTcpFrame(buf: Buffer): TcpParse {
  if (buf.length < MBAP_LENGTH) return { kind: 'need-more' };
  const protocol = buf.readUInt16BE(2);
  const length = buf.readUInt16BE(4);
  if (protocol !== 0) return { kind: 'bad', detail: `MBAP protocol id ${protocol}, expected 0` };
  // length counts the unit byte and the PDU; a PDU is 1..253 bytes.
  if (length < 2 || length > 254) return { kind: 'bad', detail: `MBAP length ${length} is impossible` };
  const end = 6 + length;
  if (buf.length < end) return { kind: 'need-more' };
  return {
    kind: 'frame',
    tid: buf.readUInt16BE(0),
    unit: buf.readUInt8(6),
    pdu: Buffer.from(buf.subarray(MBAP_LENGTH, end)),
    end,
  };
}

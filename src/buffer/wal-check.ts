/**
 * Is a SQLite WAL file damaged? A pure function of its bytes, run before the database
 * is opened (docs/field-notes.md#torn-wal-frames).
 *
 * SQLite replays a WAL up to the first frame whose salt or checksum is wrong and
 * silently ignores the rest, so committed transactions after a damaged frame vanish.
 * A torn last frame after a crash looks the same to SQLite, and is harmless. The
 * difference: after real damage, frames of the *current* WAL generation (same salts
 * as the header) follow the bad one. Frames of older generations (left behind when
 * the WAL restarts from its beginning) carry other salts and are normal.
 *
 * Format (sqlite.org/fileformat2.html, "WAL file format"): a 32-byte header (magic,
 * version, page size, checkpoint seq, salt-1, salt-2, checksum-1, checksum-2), then
 * frames of a 24-byte header (page number, db size after commit, salt-1, salt-2,
 * checksum-1, checksum-2) and one page. Checksums are cumulative Fletcher-like sums
 * over 32-bit words, big-endian when the magic's low bit is 1, else little-endian.
 */
export type WalState = 'none' | 'intact' | 'damaged';

const MAGIC = 0x377f0682;

export function checkWal(wal: Uint8Array): WalState {
  if (wal.length < 32) return wal.length === 0 ? 'none' : 'damaged';
  const view = new DataView(wal.buffer, wal.byteOffset, wal.byteLength);
  const magic = view.getUint32(0);
  if ((magic & 0xfffffffe) !== MAGIC) return 'damaged';
  const bigEndian = (magic & 1) === 1;
  const pageSize = view.getUint32(8);
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) return 'damaged';
  let [s0, s1] = checksum(view, 0, 24, 0, 0, bigEndian);
  if (s0 !== view.getUint32(24) || s1 !== view.getUint32(28)) return 'damaged';
  const salt1 = view.getUint32(16);
  const salt2 = view.getUint32(20);
  const frameSize = 24 + pageSize;
  let off = 32;
  for (; off + frameSize <= wal.length; off += frameSize) {
    if (view.getUint32(off + 8) !== salt1 || view.getUint32(off + 12) !== salt2) break;
    [s0, s1] = checksum(view, off, 8, s0, s1, bigEndian);
    [s0, s1] = checksum(view, off + 24, pageSize, s0, s1, bigEndian);
    if (s0 !== view.getUint32(off + 16) || s1 !== view.getUint32(off + 20)) break;
  }
  // Past the valid prefix: any frame of this generation means frames were lost.
  for (off += frameSize; off + 24 <= wal.length; off += frameSize) {
    if (view.getUint32(off + 8) === salt1 && view.getUint32(off + 12) === salt2) return 'damaged';
  }
  return 'intact';
}

function checksum(view: DataView, off: number, len: number, a: number, b: number, bigEndian: boolean): [number, number] {
  let s0 = a;
  let s1 = b;
  for (let i = off; i < off + len; i += 8) {
    s0 = (s0 + view.getUint32(i, !bigEndian) + s1) >>> 0;
    s1 = (s1 + view.getUint32(i + 4, !bigEndian) + s0) >>> 0;
  }
  return [s0, s1];
}

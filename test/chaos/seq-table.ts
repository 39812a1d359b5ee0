/**
 * Per-seq facts in growable typed arrays (a long chaos run sees ~10^6 seqs; objects
 * per seq would cost hundreds of MB): how often it arrived, a hash of the reading it
 * carried, when it was sampled (harness time), which point and counter value, and
 * whether the broker PUBACKed a message carrying it.
 */
export class SeqTable {
  size = 0;
  count = new Uint16Array(1024);
  ident = new Uint32Array(1024);
  sampledAt = new Float64Array(1024);
  point = new Uint16Array(1024);
  value = new Float64Array(1024);
  acked = new Uint8Array(1024);

  ensure(seq: number): void {
    if (seq < this.count.length) {
      if (seq >= this.size) this.size = seq + 1;
      return;
    }
    let cap = this.count.length;
    while (cap <= seq) cap *= 2;
    const grow = <T extends Uint16Array | Uint32Array | Float64Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const b = make(cap);
      b.set(a);
      return b;
    };
    this.count = grow(this.count, (n) => new Uint16Array(n));
    this.ident = grow(this.ident, (n) => new Uint32Array(n));
    this.sampledAt = grow(this.sampledAt, (n) => new Float64Array(n));
    this.point = grow(this.point, (n) => new Uint16Array(n));
    this.value = grow(this.value, (n) => new Float64Array(n));
    this.acked = grow(this.acked, (n) => new Uint8Array(n));
    this.size = seq + 1;
  }
}

/** FNV-1a, 32 bit: a reading's identity in 4 bytes (a collision only hides a conflict). */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) || 1;
}

/**
 * A decoder for fixed-length binary frames that start with a header byte (the shape of
 * the PMS5003 and SDS011 streams). The protocol supplies the checks; this file owns the
 * scanning, resynchronisation and counting.
 *
 * Scanning: look for the header byte; once a whole frame is available run `check`.
 * A good frame is consumed whole. A bad one (wrong fixed bytes or checksum) gives up only
 * its first byte, because the real frame may start inside the bytes that looked like a
 * header (garbage often contains 0x42 or 0xAA). `prefix` rejects impossible candidates
 * before the whole frame has arrived, so a single stray header byte in garbage does not
 * hold back frames; it must only reject what `check` would also call `format`, so the
 * outcome never depends on how the stream was chunked.
 */
import { DiscardTracker, zeroCounters, type Decoder, type DecoderCounters } from './types.js';

export type FrameVerdict = 'ok' | 'format' | 'checksum';

export interface FixedFrameSpec<F> {
  /** First byte of every frame. */
  readonly header: number;
  /** Total frame length in bytes. */
  readonly length: number;
  /**
   * Checks the fixed bytes among `buf[at .. at+available)` (available < length).
   * Returns false when they cannot start a frame.
   */
  prefix(buf: Uint8Array, at: number, available: number): boolean;
  /** Full check of `buf[at .. at+length)`. */
  check(buf: Uint8Array, at: number): FrameVerdict;
  /** Decode a frame that passed `check`. */
  parse(buf: Uint8Array, at: number): F;
}

export class FixedFrameDecoder<F> implements Decoder<F> {
  readonly counters: DecoderCounters = zeroCounters();
  private readonly discards = new DiscardTracker(this.counters);
  private pending: Uint8Array = new Uint8Array(0);

  constructor(private readonly spec: FixedFrameSpec<F>) {}

  get buffered(): number {
    return this.pending.length;
  }

  push(chunk: Uint8Array): F[] {
    const spec = this.spec;
    let buf = chunk;
    if (this.pending.length > 0) {
      buf = new Uint8Array(this.pending.length + chunk.length);
      buf.set(this.pending, 0);
      buf.set(chunk, this.pending.length);
    }
    const frames: F[] = [];
    let i = 0;
    while (i < buf.length) {
      if (buf[i] !== spec.header) {
        this.discards.discard();
        i++;
        continue;
      }
      const available = buf.length - i;
      if (available < spec.length) {
        if (spec.prefix(buf, i, available)) break;
        this.discards.discard();
        i++;
        continue;
      }
      const verdict = spec.check(buf, i);
      if (verdict === 'ok') {
        frames.push(spec.parse(buf, i));
        this.counters.frames_ok++;
        this.discards.aligned();
        i += spec.length;
        continue;
      }
      if (verdict === 'checksum') this.counters.checksum_failures++;
      this.discards.discard();
      i++;
    }
    // Copy the tail: keeping a subarray would pin the whole (possibly large) chunk.
    this.pending = i >= buf.length ? new Uint8Array(0) : buf.slice(i);
    return frames;
  }
}

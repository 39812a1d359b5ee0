/**
 * The decoder contract shared by every serial protocol.
 *
 * A decoder is an incremental, pure state machine over bytes: `push(chunk)` returns the
 * frames completed by that chunk, in order. It does no I/O and reads no clock, so the
 * same byte stream gives the same frames and the same counters however it is chunked
 * (tests split recorded streams at every byte boundary to prove it).
 *
 * Guarantees every implementation keeps:
 * - `push` never throws, whatever the bytes (garbage is counted, not raised);
 * - every call makes progress: no byte is examined more than a bounded number of times;
 * - memory is bounded: at most one frame's worth of bytes (or `max_line`) is held
 *   between calls, however long the garbage runs.
 *
 * Counters (reported to device health by the driver, cumulative since creation):
 * - `frames_ok`: frames that passed framing and checksum;
 * - `checksum_failures`: well-framed candidates whose checksum did not match;
 * - `resyncs`: times the decoder lost alignment and skipped bytes to find the next
 *   frame start (one per contiguous run of skipped bytes, however long);
 * - `bytes_discarded`: bytes that ended up in no good frame.
 * Protocols may add their own (e.g. `lines_unmatched`).
 */
export interface DecoderCounters {
  frames_ok: number;
  checksum_failures: number;
  resyncs: number;
  bytes_discarded: number;
  [extra: string]: number;
}

export interface Decoder<F> {
  push(chunk: Uint8Array): F[];
  readonly counters: Readonly<DecoderCounters>;
  /** Bytes held between calls (a partial frame or line); never more than one frame or line. */
  readonly buffered: number;
}

export function zeroCounters(): DecoderCounters {
  return { frames_ok: 0, checksum_failures: 0, resyncs: 0, bytes_discarded: 0 };
}

/**
 * Tracks runs of skipped bytes so `resyncs` counts runs, not bytes, and a run that
 * spans two chunks is still one run.
 */
export class DiscardTracker {
  private inRun = false;

  constructor(private readonly counters: DecoderCounters) {}

  discard(n = 1): void {
    if (n <= 0) return;
    this.counters.bytes_discarded += n;
    if (!this.inRun) {
      this.counters.resyncs++;
      this.inRun = true;
    }
  }

  /** A good frame (or a clean separator) ends the run. */
  aligned(): void {
    this.inRun = false;
  }
}

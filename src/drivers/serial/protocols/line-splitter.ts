/**
 * Splits a byte stream into text lines for the sensors that print. A line ends at LF or
 * CR (so CRLF, LF and CR-only devices all work); empty lines are skipped. A line longer
 * than `maxLength` bytes means we are not reading what we think (wrong baud rate, binary
 * noise): its bytes are discarded up to the next line end and counted as one resync.
 * Bytes are decoded as UTF-8; invalid sequences become U+FFFD rather than failing.
 */
import { DiscardTracker, zeroCounters, type Decoder, type DecoderCounters } from './types.js';

const CR = 0x0d;
const LF = 0x0a;

export class LineSplitter implements Decoder<string> {
  readonly counters: DecoderCounters = zeroCounters();
  private readonly discards = new DiscardTracker(this.counters);
  private readonly buf: Uint8Array;
  private len = 0;
  private skipping = false;
  private readonly text = new TextDecoder('utf-8', { fatal: false });

  get buffered(): number {
    return this.len;
  }

  constructor(readonly maxLength = 256) {
    this.buf = new Uint8Array(maxLength);
  }

  push(chunk: Uint8Array): string[] {
    const out: string[] = [];
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i] as number;
      if (c === LF || c === CR) {
        if (this.skipping) {
          this.skipping = false;
        } else if (this.len > 0) {
          out.push(this.text.decode(this.buf.subarray(0, this.len)));
          this.counters.frames_ok++;
          this.discards.aligned();
        }
        this.len = 0;
      } else if (this.skipping) {
        this.discards.discard();
      } else if (this.len >= this.maxLength) {
        this.discards.discard(this.len + 1);
        this.len = 0;
        this.skipping = true;
      } else {
        this.buf[this.len++] = c;
      }
    }
    return out;
  }
}

/**
 * The birth/death sequence number (bdSeq, spec §6.4.19 / tck-id-payloads-nbirth-bdseq):
 * one per MQTT session, carried by the will (NDEATH) of the CONNECT and by that session's
 * NBIRTH, incremented (0–255, wrapping) for every new CONNECT. It is kept in
 * `<data_dir>/sparkplug-bdseq` (written atomically, src/core/durable-file.ts) so that a
 * restarted gateway does not reuse the bdSeq of its previous life: a host matches an NDEATH
 * to the NBIRTH it belongs to by bdSeq, and a stale will delivered late must not kill the
 * new session.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { writeFileAtomic } from '../../../core/durable-file.js';
import { describeError } from '../../../core/errors.js';

export const BDSEQ_FILE = 'sparkplug-bdseq';

export class BdSeq {
  private last: number | undefined;
  private readonly file: string;

  constructor(
    dataDir: string,
    private readonly log: Logger,
  ) {
    this.file = join(dataDir, BDSEQ_FILE);
  }

  /** The bdSeq of the next CONNECT (persisted before it is used). */
  next(): number {
    this.last ??= this.read();
    const n = this.last === undefined ? 0 : (this.last + 1) % 256;
    try {
      writeFileAtomic(this.file, `${n}\n`);
    } catch (err) {
      // Still usable for this run: a host sees the right pairs; only a restart may repeat one.
      this.log.warn(`sparkplug: cannot keep bdSeq in ${this.file} (${describeError(err)}); after a restart bdSeq may repeat`);
    }
    this.last = n;
    return n;
  }

  private read(): number | undefined {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.log.warn(`sparkplug: cannot read ${this.file} (${describeError(err)}); bdSeq starts at 0`);
      return undefined;
    }
    const n = Number(text.trim());
    if (Number.isInteger(n) && n >= 0 && n <= 255) return n;
    this.log.warn(`sparkplug: ${this.file} holds ${JSON.stringify(text.slice(0, 20))}, not a bdSeq (0-255); starting at 0`);
    return undefined;
  }
}

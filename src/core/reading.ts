/**
 * The unit of data that flows from drivers to the broker.
 *
 * A driver emits a {@link Sample} (what it measured). The pipeline turns it into a
 * {@link Reading} (scaled, timestamped, validated). The buffer assigns `seq` when it
 * commits the reading; from then on the reading is "accepted" and the delivery
 * promise (README.md#the-delivery-promise) applies to it.
 */

/** How much a consumer may trust a value. */
export type Quality = 'good' | 'uncertain' | 'bad';

export type Value = number | boolean | string;

/** What a driver measured. `ts` (epoch ms) is optional: the pipeline stamps it. */
export interface Sample {
  point: string;
  value: Value | null;
  quality?: Quality;
  unit?: string;
  ts?: number;
  /** `ts` comes from outside this machine's clock (a GPS fix): trusted while the local clock is not. */
  tsExternal?: boolean;
}

/** A processed reading, ready for the buffer. */
export interface Reading {
  device: string;
  point: string;
  value: Value | null;
  unit?: string;
  ts: number;
  quality: Quality;
}

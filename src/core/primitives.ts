/**
 * Building blocks for the one config schema (docs/architecture.md#one-schema): every driver's schema is
 * made of these, so types, defaults, validation messages and the editor JSON Schema
 * all come from one place.
 */
import { z } from 'zod';
import type { ConfigNote } from './driver.js';
import { DURATION_PATTERN, SIZE_PATTERN, formatDuration, formatSize, parseDuration, parseSize } from './units.js';
import type { PointSettings } from './point-settings.js';

const show = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : String(v));

interface Quantity {
  kind: string;
  help: string;
  pattern: string;
  description: string;
  parse: (s: string) => number | undefined;
  format: (n: number) => string;
}

const DURATION: Quantity = {
  kind: 'duration',
  help: 'like "10s" (units ms, s, m, h, d; "1h30m" works too)',
  pattern: DURATION_PATTERN,
  description: 'A duration with a unit: ms, s, m, h or d (e.g. "500ms", "10s", "1h30m").',
  parse: parseDuration,
  format: formatDuration,
};

const SIZE: Quantity = {
  kind: 'size',
  help: 'like "256MiB" (units B, KiB, MiB, GiB, or decimal KB, MB, GB)',
  pattern: SIZE_PATTERN,
  description: 'A size with a unit: B, KiB, MiB, GiB (1024-based) or KB, MB, GB (1000-based); a bare number is bytes.',
  parse: parseSize,
  format: formatSize,
};

export interface QuantityOptions {
  /** A floor below which the setting would spin or starve something … */
  min?: number;
  /** … and what, said in the error. */
  why?: string;
  description?: string;
}

/** A string with a unit, parsed to a number (ms or bytes), with an optional floor. */
function quantity(q: Quantity, opts: QuantityOptions) {
  const wrong = (iss: { input?: unknown }): string => `expected a ${q.kind} ${q.help}, got ${show(iss.input)}`;
  return z
    .string({ error: wrong })
    .regex(new RegExp(q.pattern), { error: wrong })
    .meta({ description: opts.description ?? q.description })
    .transform((s, ctx) => {
      const n = q.parse(s) ?? NaN;
      if (opts.min !== undefined && n < opts.min) {
        ctx.addIssue({ code: 'custom', message: `must be at least ${q.format(opts.min)}${opts.why ? ` (${opts.why})` : ''}, got ${show(s)}` });
        return z.NEVER;
      }
      return n;
    });
}

/** A duration string ("500ms", "10s", "1h") parsed to milliseconds. */
export function duration(opts: QuantityOptions = {}) {
  return quantity(DURATION, opts);
}

/** A size string ("64KiB", "256MiB") parsed to bytes. */
export function size(opts: QuantityOptions = {}) {
  return quantity(SIZE, opts);
}

/** Ids that appear in MQTT topics: lower-case letters, digits, '-' and '_'. */
export const topicId = z
  .string({ error: (iss) => `expected an id of a-z, 0-9, '-' or '_', got ${show(iss.input)}` })
  .regex(/^[a-z0-9_-]{1,64}$/, {
    error: (iss) =>
      `${show(iss.input)} is not a valid id — use 1 to 64 of a-z, 0-9, '-' and '_' (it appears in MQTT topics, where '/', '+', '#' and spaces break subscriptions)`,
  });

/** Point names (appear in payloads, not topics): letters, digits, '_', '-', '.'. */
export const pointName = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,64}$/, {
    error: (iss) => `${show(iss.input)} is not a valid point name — use 1 to 64 of A-Z, a-z, 0-9, '_', '-' and '.'`,
  });

/**
 * Keys every point accepts, whatever its driver: they configure the pipeline
 * (scaling, report-on-change, validation) between the driver and the buffer.
 */
export const pointPipelineKeys = {
  name: pointName,
  unit: z.string().max(32).optional().meta({ description: 'Engineering unit sent with each reading (e.g. "V", "degC").' }),
  scale: z.number().optional().meta({ description: 'Multiply the raw value by this (applied before offset).' }),
  offset: z.number().optional().meta({ description: 'Add this after scaling.' }),
  deadband: z
    .number()
    .min(0)
    .optional()
    .meta({ description: 'Report only when the value moved by at least this much since the last report (report-on-change).' }),
  max_silence: duration({
    description: 'With deadband: report anyway after this long without a report, so consumers know the point is alive.',
  }).optional(),
  valid_range: z
    .tuple([z.number(), z.number()])
    .refine(([lo, hi]) => lo <= hi, { error: (iss) => `valid_range is [low, high]: ${JSON.stringify(iss.input)} is reversed` })
    .optional()
    .meta({ description: 'Plausible [low, high]: values outside are still sent, with quality "bad".' }),
  precision: z.number().int().min(0).max(12).optional().meta({ description: 'Round to this many decimals.' }),
};

export const pointPipelineSchema = z.strictObject(pointPipelineKeys);
export type PointPipelineConfig = z.output<typeof pointPipelineSchema>;
/** Compile-time check: what this schema gives is what the pipeline takes (src/core/point-settings.ts). */
export type PointSettingsMatch = PointPipelineConfig extends PointSettings ? true : never;
export const pointSettingsMatch: PointSettingsMatch = true;

/** Keys every device accepts. */
export const deviceBaseKeys = {
  id: topicId.meta({ description: 'Device id; appears in topics as data/<id>.' }),
  enabled: z.boolean().default(true).meta({ description: 'Set false to keep a device in config without running it.' }),
};

/**
 * Warnings for a serial device path: on a Pi 3/4/Zero W `/dev/ttyAMA0` is the UART
 * wired to Bluetooth, not the header pins (GPIO14/15), unless Bluetooth is disabled.
 */
export function serialPortNotes(port: string, path: PropertyKey[] = ['port']): ConfigNote[] {
  if (port === '/dev/ttyAMA0') {
    return [{
      path,
      severity: 'warning',
      message: 'on a Pi 3, 4 or Zero W /dev/ttyAMA0 drives the Bluetooth chip, not header pins 8/10 — use /dev/serial0 (or add dtoverlay=disable-bt to config.txt to keep ttyAMA0 on the header)',
    }];
  }
  return [];
}

/**
 * A JSON Schema `if`/`then` for editors: when the keys in `when` are present and match,
 * `then` applies. Cross-key rules live in a schema's superRefine for `validate`; this
 * carries the ones JSON Schema can say to the editor (attach with `.meta({ allOf })`).
 */
export function ifThen(when: Record<string, Record<string, unknown>>, then: Record<string, unknown>): Record<string, unknown> {
  return { if: { properties: when, required: Object.keys(when) }, then };
}

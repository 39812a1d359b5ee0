/**
 * Building blocks for the one config schema (docs/architecture.md#one-schema): every driver's schema is
 * made of these, so types, defaults, validation messages and the editor JSON Schema
 * all come from one place.
 */
import { z } from 'zod';
import { DURATION_PATTERN, SIZE_PATTERN, parseDuration, parseSize } from './units.js';

const show = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : String(v));

/** A duration string ("500ms", "10s", "1h") parsed to milliseconds. */
export function duration(opts: { min?: number; description?: string } = {}) {
  return z
    .string({ error: (iss) => `expected a duration like "10s", got ${show(iss.input)}` })
    .regex(new RegExp(DURATION_PATTERN), { error: (iss) => `expected a duration like "10s", got ${show(iss.input)}` })
    .meta({ description: opts.description ?? 'A duration with a unit: ms, s, m, h or d (e.g. "500ms", "10s", "1h30m").' })
    .transform((s, ctx) => {
      const ms = parseDuration(s) ?? NaN;
      if (opts.min !== undefined && ms < opts.min) {
        ctx.addIssue({ code: 'custom', message: `must be at least ${opts.min}ms, got ${show(s)}` });
        return z.NEVER;
      }
      return ms;
    });
}

/** A size string ("64KiB", "256MiB") parsed to bytes. */
export function size(opts: { description?: string } = {}) {
  return z
    .string({ error: (iss) => `expected a size like "256MiB", got ${show(iss.input)}` })
    .regex(new RegExp(SIZE_PATTERN), { error: (iss) => `expected a size like "256MiB", got ${show(iss.input)}` })
    .meta({ description: opts.description ?? 'A size with a unit: B, KiB, MiB, GiB (or KB, MB, GB).' })
    .transform((s) => parseSize(s) ?? NaN);
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
    .optional()
    .meta({ description: 'Plausible [low, high]: values outside are still sent, with quality "bad".' }),
  precision: z.number().int().min(0).max(12).optional().meta({ description: 'Round to this many decimals.' }),
};

export const pointPipelineSchema = z.strictObject(pointPipelineKeys);
export type PointPipelineConfig = z.output<typeof pointPipelineSchema>;

/** Keys every device accepts. */
export const deviceBaseKeys = {
  id: topicId.meta({ description: 'Device id; appears in topics as data/<id>.' }),
  enabled: z.boolean().default(true).meta({ description: 'Set false to keep a device in config without running it.' }),
};

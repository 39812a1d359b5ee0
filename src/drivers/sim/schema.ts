import { z } from 'zod';
import { deviceBaseKeys, duration, pointPipelineKeys } from '../../core/primitives.js';

export const WAVES = ['sine', 'square', 'triangle', 'sawtooth', 'random_walk', 'step', 'counter', 'constant'] as const;

export const simPointSchema = z
  .strictObject({
    ...pointPipelineKeys,
    wave: z.enum(WAVES).default('sine').meta({ description: 'Shape of the simulated signal.' }),
    min: z.number().default(0).meta({ description: 'Lowest value of the wave (random_walk: lower bound; counter: start).' }),
    max: z.number().default(100).meta({ description: 'Highest value of the wave (random_walk: upper bound).' }),
    period: duration({ min: 1 }).prefault('1m').meta({ description: 'Length of one cycle (step: time per value).' }),
    step: z.number().positive().default(1).meta({ description: 'random_walk: largest move per sample; counter: increment per sample.' }),
    values: z.array(z.union([z.number(), z.boolean(), z.string()])).min(1).optional().meta({ description: 'step: the values to cycle through.' }),
    value: z.union([z.number(), z.boolean(), z.string()]).optional().meta({ description: 'constant: the value.' }),
    replicas: z
      .number()
      .int()
      .min(1)
      .max(100_000)
      .default(1)
      .meta({ description: 'Generate this many points named <name>_0 … <name>_N-1 (load tests, benchmarks).' }),
  })
  .superRefine((p, ctx) => {
    if (p.min > p.max && p.wave !== 'counter') ctx.addIssue({ code: 'custom', path: ['min'], message: `min (${p.min}) is above max (${p.max})` });
    if (p.wave === 'step' && !p.values) ctx.addIssue({ code: 'custom', path: ['values'], message: 'wave "step" needs values: [ … ]' });
    if (p.wave === 'constant' && p.value === undefined)
      ctx.addIssue({ code: 'custom', path: ['value'], message: 'wave "constant" needs value: …' });
  });

export const simDeviceSchema = z.strictObject({
  ...deviceBaseKeys,
  driver: z.literal('sim'),
  poll: duration({ min: 1 }).prefault('1s').meta({ description: 'Every point is sampled once per poll.' }),
  error_rate: z
    .number()
    .min(0)
    .max(1)
    .default(0)
    .meta({ description: 'Probability that a poll fails (reported to health, no readings): for demos and tests.' }),
  crash_after: duration({ min: 1 })
    .optional()
    .meta({ description: 'Throw from the poll timer after running this long: proves a crashing driver is restarted alone.' }),
  start_delay: duration({ min: 1 })
    .optional()
    .meta({ description: 'start() takes this long (a slow or hung device): proves startup is supervised and timed out.' }),
  seed: z.number().int().optional().meta({ description: 'Seed for random_walk and error_rate, for reproducible runs.' }),
  points: z.array(simPointSchema).min(1),
});

export type SimDeviceConfig = z.output<typeof simDeviceSchema>;
export type SimPointConfig = z.output<typeof simPointSchema>;

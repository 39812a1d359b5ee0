/**
 * Config of a `gpio` device (README.md in this folder is the reference for integrators).
 * One device is one line in one mode — a BCM `pin` on a Raspberry Pi, or `chip` and `line`
 * (offset) on any board — and the points it emits are fixed per mode (see
 * `gpioPointConfigs`), so there is no `points:` list.
 */
import { z } from 'zod';
import { deviceBaseKeys, duration, ifThen, pointName } from '../../core/primitives.js';
import type { PointPipelineConfig } from '../../core/primitives.js';
import type { ConfigNote } from '../../core/driver.js';
import type { LineRef } from '../../ports/gpio/port.js';

const level = z
  .union([z.literal(0), z.literal(1)], { error: (iss) => `expected 0 or 1, got ${JSON.stringify(iss.input)}` })
  .meta({ description: 'A logic level: 0 or 1 (after active_low).' });

export const gpioDeviceSchema = z
  .strictObject({
    ...deviceBaseKeys,
    driver: z.literal('gpio'),
    pin: z
      .number({ error: (iss) => `expected a BCM GPIO number like 17, got ${JSON.stringify(iss.input)}` })
      .int({ error: 'expected a whole BCM GPIO number like 17' })
      .min(0, { error: 'BCM GPIO numbers start at 0' })
      .max(57, { error: (iss) => `GPIO ${String(iss.input)} does not exist: BCM numbers go up to 27 on the header (57 on a Pi 4 SoC)` })
      .optional()
      .meta({ description: 'Raspberry Pi: BCM GPIO number (GPIO17 = physical pin 11), whatever the kernel\'s sysfs base (0, 512 or 571). Other boards: give chip and line instead.' }),
    chip: z
      .string()
      .min(1)
      .max(64)
      .optional()
      .meta({ description: 'Any board: the GPIO chip, by label (gpio-sim.0-node0, pinctrl-bcm2711) or /dev name (gpiochip2), as `gpiodetect` lists them. With line; instead of pin.' }),
    line: z
      .number({ error: (iss) => `expected a line offset like 3, got ${JSON.stringify(iss.input)}` })
      .int({ error: 'expected a whole line offset like 3' })
      .min(0, { error: 'line offsets start at 0' })
      .max(1023, { error: 'line offsets go up to the chip\'s line count − 1 (`gpioinfo` lists them)' })
      .optional()
      .meta({ description: 'With chip: the line\'s offset on that chip (0 to its line count − 1), as `gpioinfo` numbers it.' }),
    backend: z
      .enum(['sysfs', 'gpiomon'])
      .default('sysfs')
      .meta({
        description:
          'input/counter: sysfs (default), or gpiomon: edges with kernel timestamps through the GPIO character device (Debian package gpiod), so a busy gateway delays pulses but never merges them.',
      }),
    mode: z
      .enum(['input', 'counter', 'output'])
      .meta({ description: 'input: a switch (report on change + heartbeat); counter: pulses (rate + running total); output: a relay.' }),
    active_low: z
      .boolean()
      .default(false)
      .meta({ description: 'Invert the level: a switch to ground with a pull-up reads 1 when closed.' }),
    edge: z
      .enum(['rising', 'falling', 'both'])
      .optional()
      .meta({ description: 'counter: which transitions count as a pulse (default falling: a contact closing to ground).' }),
    debounce: duration()
      .optional()
      .meta({
        description:
          'input/counter: a level must hold this long to count (default 20ms; reed switches bounce for ~1-5ms). A counter is exact up to 1/(4 × debounce) pulses/s (12.5/s at 20ms); a window it cannot vouch for is published uncertain.',
      }),
    report: duration({ min: 100 })
      .prefault('60s')
      .meta({ description: 'counter: the counting interval; input/output: heartbeat period (state re-sent even without change).' }),
    scale: z
      .number()
      .positive({ error: 'scale must be above 0 (units per pulse)' })
      .optional()
      .meta({ description: 'counter: units per pulse, e.g. 0.2794 (mm of rain per bucket tip). Default 1.' }),
    unit: z.string().max(32).optional().meta({ description: 'counter: unit of count and total (e.g. "mm"); input/output: unit of the state point.' }),
    rate_per: duration({ min: 1000 })
      .optional()
      .meta({ description: 'counter: the rate is given per this period (default 1h: mm/h, vehicles/h).' }),
    rate_unit: z.string().max(32).optional().meta({ description: 'counter: unit of the rate point (e.g. "mm/h").' }),
    point: pointName.optional().meta({ description: 'input/output: name of the state point (default "state").' }),
    initial: level.optional().meta({ description: 'output: level driven at start (default 0).' }),
    safe: level.optional().meta({ description: 'output: level driven at shutdown or driver restart (default: initial).' }),
  })
  .meta({
    // The mode rules of the superRefine below, for editors.
    // pin, or chip and line: the line-naming rule of the superRefine below
    oneOf: [{ required: ['pin'] }, { required: ['chip', 'line'] }],
    allOf: [
      { if: { required: ['chip'] }, then: { required: ['line'] } },
      { if: { required: ['line'] }, then: { required: ['chip'] } },
      ifThen({ mode: { const: 'input' } }, { properties: { edge: false, scale: false, rate_per: false, rate_unit: false, initial: false, safe: false } }),
      ifThen({ mode: { const: 'counter' } }, { properties: { point: false, initial: false, safe: false } }),
      ifThen({ mode: { const: 'output' } }, { properties: { backend: { const: 'sysfs' }, edge: false, debounce: false, scale: false, rate_per: false, rate_unit: false } }),
    ],
  })
  .superRefine(
    (c, ctx) => {
      // Runs even when other keys failed (see `when` below), so every misplaced key is
      // reported at once; a mode that is itself invalid has no keys to compare against.
      const has = (k: 'pin' | 'chip' | 'line'): boolean => (c as Record<string, unknown>)[k] !== undefined;
      if (has('pin') && (has('chip') || has('line'))) {
        ctx.addIssue({
          code: 'custom',
          path: [has('chip') ? 'chip' : 'line'],
          message: 'give either pin (a BCM number on a Raspberry Pi) or chip and line, not both',
        });
      } else if (!has('pin') && !has('chip') && !has('line')) {
        ctx.addIssue({
          code: 'custom',
          path: ['pin'],
          message: 'missing the line: pin (a BCM number on a Raspberry Pi), or chip and line (any board)',
        });
      } else if (has('chip') !== has('line')) {
        const missing = has('chip') ? 'line' : 'chip';
        ctx.addIssue({ code: 'custom', path: [missing], message: `missing required key "${missing}": chip and line go together` });
      }
      if (!['input', 'counter', 'output'].includes(c.mode)) return;
      const only = (key: keyof typeof c, modes: string[]): void => {
        if (c[key] !== undefined && !modes.includes(c.mode)) {
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: `${key} applies to mode ${modes.join(' or ')}, not ${c.mode}`,
          });
        }
      };
      if (c.mode === 'output' && c.backend === 'gpiomon') {
        ctx.addIssue({ code: 'custom', path: ['backend'], message: 'backend gpiomon reads inputs only; an output uses sysfs' });
      }
      only('edge', ['counter']);
      only('debounce', ['input', 'counter']);
      only('scale', ['counter']);
      only('rate_per', ['counter']);
      only('rate_unit', ['counter']);
      only('point', ['input', 'output']);
      only('initial', ['output']);
      only('safe', ['output']);
    },
    { when: (payload) => typeof payload.value === 'object' && payload.value !== null },
  );

export type GpioDeviceConfig = z.output<typeof gpioDeviceSchema>;

/** Resolved settings with defaults applied (kept out of the schema where they depend on mode). */
export interface GpioSettings {
  /** The line: BCM number, or chip and offset. */
  pin: LineRef;
  activeLow: boolean;
  debounceMs: number;
  reportMs: number;
  edge: 'rising' | 'falling' | 'both';
  scale: number;
  ratePerMs: number;
  point: string;
  initial: 0 | 1;
  safe: 0 | 1;
}

export const DEFAULT_DEBOUNCE_MS = 20;

export function gpioSettings(c: GpioDeviceConfig): GpioSettings {
  const initial = c.initial ?? 0;
  return {
    pin: gpioLineRef(c),
    activeLow: c.active_low,
    debounceMs: c.debounce ?? DEFAULT_DEBOUNCE_MS,
    reportMs: c.report,
    edge: c.edge ?? 'falling',
    scale: c.scale ?? 1,
    ratePerMs: c.rate_per ?? 3_600_000,
    point: c.point ?? 'state',
    initial,
    safe: c.safe ?? initial,
  };
}

/** The line a (validated) config names. */
export function gpioLineRef(c: GpioDeviceConfig): LineRef {
  if (c.pin !== undefined) return c.pin;
  return { chip: c.chip ?? '', line: c.line ?? 0 };
}

/** What the config and conflict checks call the line: `17`, or `gpio-sim.0-node0:3`. */
export function gpioClaim(c: GpioDeviceConfig): string {
  return c.pin !== undefined ? `gpio:${c.pin}` : `gpio:${c.chip ?? ''}:${c.line ?? 0}`;
}

/** Counter points: pulses × scale in the last interval, that as a rate, and the running total. */
export const COUNTER_POINTS = { count: 'count', rate: 'rate', total: 'total' } as const;

export function gpioPointConfigs(c: GpioDeviceConfig): PointPipelineConfig[] {
  const unit = c.unit === undefined ? {} : { unit: c.unit };
  if (c.mode === 'counter') {
    return [
      { name: COUNTER_POINTS.count, ...unit },
      { name: COUNTER_POINTS.rate, ...(c.rate_unit === undefined ? {} : { unit: c.rate_unit }) },
      { name: COUNTER_POINTS.total, ...unit },
    ];
  }
  return [{ name: c.point ?? 'state', ...unit }];
}

/** Physical header pin → BCM GPIO (40-pin header); the others are power and ground. */
const HEADER_TO_BCM: Readonly<Record<number, number>> = {
  3: 2, 5: 3, 7: 4, 8: 14, 10: 15, 11: 17, 12: 18, 13: 27, 15: 22, 16: 23, 18: 24, 19: 10, 21: 9, 22: 25,
  23: 11, 24: 8, 26: 7, 27: 0, 28: 1, 29: 5, 31: 6, 32: 12, 33: 13, 35: 19, 36: 16, 37: 26, 38: 20, 40: 21,
};
/** BCM GPIOs with a job besides plain I/O on a Pi. */
const SPECIAL: Readonly<Record<number, string>> = {
  0: 'the HAT ID EEPROM data line (ID_SD)', 1: 'the HAT ID EEPROM clock (ID_SC)',
  2: 'I2C SDA, with a fixed 1.8 kΩ pull-up', 3: 'I2C SCL, with a fixed 1.8 kΩ pull-up',
  7: 'SPI0 CE1', 8: 'SPI0 CE0', 9: 'SPI0 MISO', 10: 'SPI0 MOSI', 11: 'SPI0 SCLK',
  14: 'the serial console TX', 15: 'the serial console RX',
};

/**
 * Likely mix-ups of BCM and physical header numbers (warnings: `--strict` makes them
 * errors). GPIO 28-57 exist on the SoC but not on the header.
 */
export function checkGpioDevice(c: GpioDeviceConfig): ConfigNote[] {
  if (c.pin === undefined) return []; // chip and line: nothing to mix up
  const asHeader = HEADER_TO_BCM[c.pin];
  const meant = asHeader !== undefined && asHeader !== c.pin ? ` If you meant header pin ${c.pin}, that is GPIO${asHeader}: write pin: ${asHeader}.` : '';
  if (c.pin > 27) {
    return [{ path: ['pin'], severity: 'warning', message: `GPIO${c.pin} is not on the 40-pin header (BCM 0-27 are).${meant}` }];
  }
  const job = SPECIAL[c.pin];
  if (job) {
    const header = Object.entries(HEADER_TO_BCM).find(([, bcm]) => bcm === c.pin)?.[0];
    return [{ path: ['pin'], severity: 'warning', message: `GPIO${c.pin} (header pin ${header}) is ${job}; pin: is a BCM number.${meant}` }];
  }
  return [];
}

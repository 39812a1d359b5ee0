/**
 * Config of a `serial` device. Protocol options sit flat beside the port settings
 * (`regex:` rather than `lines: { regex: }`) because each device has exactly one
 * protocol; the refinement below rejects options that do not belong to it, so a stray
 * `regex:` on a pms5003 is an error rather than silently ignored.
 *
 * Some defaults depend on the protocol (silence_timeout) and a zod transform would stop
 * this schema being a member of the devices' discriminated union, so those live in
 * `effectiveOptions()` right below the schema, the one place that applies them.
 */
import { z } from 'zod';
import { deviceBaseKeys, duration, ifThen, pointName, pointPipelineKeys } from '../../core/primitives.js';
import { didYouMean } from '../../core/suggest.js';
import { baudField } from '../../core/baud.js';
import { regexGroupNames } from './protocols/lines.js';
import { emittedPoints, PROTOCOLS, type ProtocolName } from './points.js';

export const serialPointSchema = z.strictObject({ ...pointPipelineKeys });

const LINES_ONLY = ['regex', 'columns', 'separator', 'convert', 'max_line'] as const;

export const serialDeviceSchema = z
  .strictObject({
    ...deviceBaseKeys,
    driver: z.literal('serial'),
    port: z
      .string()
      .regex(/^\/dev\/\S+$|^\/\S+$/, { error: (iss) => `expected a device path like "/dev/serial/by-id/usb-…-port0", got ${JSON.stringify(iss.input)}` })
      .meta({ description: 'Serial device. Prefer /dev/serial/by-id/… links: /dev/ttyUSBn numbers change when adapters re-enumerate.', substitution: 'address' }),
    baud: baudField(50, 4_000_000)
      .default(9600)
      .meta({ description: 'Baud rate (PMS5003, SDS011 and most GPS modules: 9600). A standard Linux rate: 50 … 9600, 19200, 38400, 57600, 115200 … 4000000.' }),
    data_bits: z.union([z.literal(5), z.literal(6), z.literal(7), z.literal(8)]).default(8),
    parity: z.enum(['none', 'even', 'odd', 'mark', 'space']).default('none'),
    stop_bits: z.union([z.literal(1), z.literal(1.5), z.literal(2)]).default(1),
    protocol: z.enum(PROTOCOLS).meta({
      description: 'pms5003 (Plantower PM sensors) · sds011 (Nova PM sensors) · nmea (GPS) · lines (text, one reading per line: regex or CSV)',
    }),
    silence_timeout: z
      .union([z.literal(false), duration({ min: 100 })])
      .optional()
      .meta({
        description:
          'Reopen the port when no byte arrives for this long (an unplugged USB adapter often says nothing). Default 30s, or false for lines; set false for devices that are silent for long periods.',
      }),
    reopen: z
      .strictObject({
        min: duration({ min: 10 }).prefault('1s').meta({ description: 'First reopen delay after the port is lost.' }),
        max: duration({ min: 10 }).prefault('1m').meta({ description: 'Longest reopen delay (exponential backoff with jitter in between).' }),
      })
      .prefault({}),
    regex: z.string().min(1).optional().meta({ description: 'lines: a JavaScript regular expression; each named group (?<name>…) becomes a point.' }),
    columns: z
      .array(z.union([pointName, z.null()]))
      .min(1)
      .optional()
      .meta({ description: 'lines: CSV column names in order; null skips a column.' }),
    separator: z.string().min(1).max(8).optional().meta({ description: 'lines with columns: field separator (default ",").' }),
    convert: z
      .enum(['auto', 'number', 'string'])
      .optional()
      .meta({ description: 'lines: auto (default: numbers where they look like numbers), number (else null, quality bad) or string.' }),
    max_line: z.number().int().min(8).max(4096).optional().meta({ description: 'lines: longest accepted line in bytes (default 256).' }),
    clock_offset: z
      .boolean()
      .optional()
      .meta({ description: 'nmea: emit clock_offset_ms, GPS UTC minus the gateway clock (default true).' }),
    points: z
      .array(serialPointSchema)
      .optional()
      .meta({ description: 'Pipeline settings (unit, scale, deadband, …) for points by name; the protocol decides which points exist.' }),
  })
  .meta({
    // The protocol rules of the superRefine below, for editors; fixed protocols also
    // list their point names, so completion offers them.
    allOf: [
      ifThen({ protocol: { not: { const: 'lines' } } }, { properties: Object.fromEntries(LINES_ONLY.map((k) => [k, false])) }),
      ifThen({ protocol: { const: 'lines' } }, { anyOf: [{ required: ['regex'] }, { required: ['columns'] }], not: { required: ['regex', 'columns'] } }),
      ifThen({ protocol: { not: { const: 'nmea' } } }, { properties: { clock_offset: false } }),
      ...PROTOCOLS.filter((p) => p !== 'lines').map((p) =>
        ifThen({ protocol: { const: p } }, { properties: { points: { items: { properties: { name: { enum: emittedPoints(p, {}).map((e) => e.name) } } } } } }),
      ),
    ],
  })
  .superRefine((d, ctx) => {
    const issue = (path: (string | number)[], message: string): void => ctx.addIssue({ code: 'custom', path, message });
    if (d.protocol !== 'lines') {
      for (const k of LINES_ONLY) if (d[k] !== undefined) issue([k], `${k} applies only to protocol: lines (this device uses ${d.protocol})`);
    } else {
      if (d.regex === undefined && d.columns === undefined) issue(['protocol'], 'protocol lines needs regex: (named groups become points) or columns: (CSV)');
      if (d.regex !== undefined && d.columns !== undefined) issue(['columns'], 'give regex: or columns:, not both');
      if (d.regex !== undefined) checkRegex(d.regex, issue);
      if (d.separator !== undefined && d.columns === undefined) issue(['separator'], 'separator applies only with columns:');
      if (d.columns && !d.columns.some((c) => c !== null)) issue(['columns'], 'columns needs at least one named column');
    }
    if (d.clock_offset !== undefined && d.protocol !== 'nmea') issue(['clock_offset'], `clock_offset applies only to protocol: nmea (this device uses ${d.protocol})`);
    if (d.reopen.min > d.reopen.max) issue(['reopen', 'min'], 'reopen.min is longer than reopen.max');
    checkPointNames(d, issue);
  });

function checkRegex(source: string, issue: (path: (string | number)[], message: string) => void): void {
  try {
    new RegExp(source);
  } catch (err) {
    issue(['regex'], `not a valid regular expression: ${(err as Error).message}`);
    return;
  }
  const names = regexGroupNames(source);
  if (names.length === 0) issue(['regex'], 'the regex has no named groups — write (?<temperature>…) for each value to report');
  for (const n of names) if (!pointName.safeParse(n).success) issue(['regex'], `group name "${n}" is not a valid point name`);
}

function checkPointNames(
  d: { protocol: ProtocolName; regex?: string | undefined; columns?: (string | null)[] | undefined; points?: { name: string }[] | undefined },
  issue: (path: (string | number)[], message: string) => void,
): void {
  const emitted = emittedPoints(d.protocol, d).map((p) => p.name);
  if (emitted.length === 0) return; // a lines config error was already reported
  d.points?.forEach((p, i) => {
    if (emitted.includes(p.name)) return;
    const guess = didYouMean(p.name, emitted);
    issue(
      ['points', i, 'name'],
      `"${p.name}" is not a point of this device — ${guess ? `did you mean "${guess}"? ` : ''}protocol ${d.protocol} emits: ${emitted.join(', ')}`,
    );
  });
}

export type SerialDeviceConfig = z.output<typeof serialDeviceSchema>;

/** Defaults that depend on the protocol (see the header). */
export function effectiveOptions(c: SerialDeviceConfig): { silenceTimeoutMs: number } {
  const silence = c.silence_timeout ?? (c.protocol === 'lines' ? false : 30_000);
  return { silenceTimeoutMs: silence === false ? 0 : silence };
}

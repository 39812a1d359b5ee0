/**
 * Config of a `firmata` device: an Arduino-class board running StandardFirmata on a
 * serial port, its points read from analog pins, digital pins, or johnny-five thermometer
 * controllers (README.md in this folder is the reference for integrators).
 */
import { z } from 'zod';
import { deviceBaseKeys, duration, pointPipelineKeys } from '../../core/primitives.js';
import type { PointPipelineConfig } from '../../core/primitives.js';

/** johnny-five Thermometer controllers that read an analog pin (others need I2C/1-Wire wiring we do not expose). */
export const THERMOMETER_CONTROLLERS = ['LM35', 'LM335', 'TMP36', 'GROVE', 'TINKERKIT'] as const;

const analogPin = /^A(\d{1,2})$/;

export const firmataPointSchema = z
  .strictObject({
    ...pointPipelineKeys,
    pin: z
      .union([z.string(), z.number().int().min(0).max(127)], {
        error: (iss) => `expected a pin like "A0" (analog) or 7 (digital), got ${JSON.stringify(iss.input)}`,
      })
      .meta({ description: 'Analog pins as "A0" … "A15"; digital pins by number (2 … 53).' }),
    type: z
      .enum(['analog', 'digital', 'thermometer'])
      .optional()
      .meta({ description: 'analog: raw ADC count (0-1023, scale it); digital: 0/1; thermometer: degrees C from `controller`. Default: analog for "A<n>" pins, digital for numbers.' }),
    controller: z
      .enum(THERMOMETER_CONTROLLERS)
      .optional()
      .meta({ description: 'thermometer: the sensor chip (johnny-five Thermometer controller).' }),
    pull_up: z.boolean().optional().meta({ description: "digital: enable the board's internal pull-up (switch to ground)." }),
  })
  .superRefine(
    (p, ctx) => {
      // Runs even when other keys failed (`when` below), so all problems show at once;
      // checks needing a key that is itself invalid are skipped.
      if (p.type !== undefined && !['analog', 'digital', 'thermometer'].includes(p.type)) return;
      if (typeof p.pin !== 'string' && typeof p.pin !== 'number') return;
      const type = pointType(p);
      if ((type === 'analog' || type === 'thermometer') && !(typeof p.pin === 'string' && analogPin.test(p.pin))) {
        ctx.addIssue({ code: 'custom', path: ['pin'], message: `${type === "analog" ? "an" : "a"} ${type} point needs an analog pin like "A0", got ${JSON.stringify(p.pin)}` });
      }
      if (typeof p.pin === 'string' && analogChannel(p.pin) > 15) {
        ctx.addIssue({ code: 'custom', path: ['pin'], message: `${p.pin} does not exist: analog pins are A0-A5 on an Uno, A0-A15 on a Mega` });
      }
      if (p.pin === 0 || p.pin === 1) {
        ctx.addIssue({ code: 'custom', path: ['pin'], message: `digital pin ${p.pin} is the board's serial ${p.pin === 0 ? 'RX' : 'TX'}, which carries Firmata to the gateway — use pins 2 and up` });
      }
      if (type === 'digital' && typeof p.pin !== 'number') {
        ctx.addIssue({ code: 'custom', path: ['pin'], message: `a digital point needs a pin number like 7, got ${JSON.stringify(p.pin)}` });
      }
      if (type === 'thermometer' && !p.controller) {
        ctx.addIssue({ code: 'custom', path: ['controller'], message: `a thermometer needs controller: one of ${THERMOMETER_CONTROLLERS.join(', ')}` });
      }
      if (type !== 'thermometer' && p.controller) {
        ctx.addIssue({ code: 'custom', path: ['controller'], message: 'controller applies to type thermometer only' });
      }
      if (type !== 'digital' && p.pull_up !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['pull_up'], message: 'pull_up applies to digital points only' });
      }
    },
    { when: (payload) => typeof payload.value === 'object' && payload.value !== null },
  );

export type FirmataPointType = 'analog' | 'digital' | 'thermometer';

export function pointType(p: { pin: string | number; type?: FirmataPointType | undefined }): FirmataPointType {
  return p.type ?? (typeof p.pin === 'string' ? 'analog' : 'digital');
}

/** The analog channel of "A3" → 3. */
export function analogChannel(pin: string | number): number {
  const m = typeof pin === 'string' ? analogPin.exec(pin) : null;
  return m ? Number(m[1]) : NaN;
}

export const firmataDeviceSchema = z
  .strictObject({
    ...deviceBaseKeys,
    driver: z.literal('firmata'),
    port: z
      .string()
      .min(1)
      .meta({ description: 'Serial device of the board; prefer a stable /dev/serial/by-id/… path over /dev/ttyACM0.' }),
    baud: z.number().int().positive().default(57600).meta({ description: 'StandardFirmata uses 57600.' }),
    poll: duration({ min: 10 }).prefault('1s').meta({ description: 'Every point is sampled once per poll (the latest value the board reported).' }),
    sampling_interval: duration({ min: 10 })
      .prefault('100ms')
      .meta({ description: 'How often the board reports analog pins (Firmata sampling interval).' }),
    connect_timeout: duration({ min: 100 })
      .prefault('15s')
      .meta({ description: 'Longest wait for the Firmata handshake (an Uno resets on open and boots in ~2 s).' }),
    stale_after: duration({ min: 100 })
      .prefault('10s')
      .meta({ description: 'No message from the board for this long means it is gone: the driver restarts.' }),
    aref: z.number().positive().max(5.5).default(5).meta({ description: 'Analog reference voltage (V), used by thermometer controllers.' }),
    points: z.array(firmataPointSchema).min(1),
  })
  .superRefine(
    (c, ctx) => {
      if (!Array.isArray(c.points)) return;
      const seen = new Map<string, number>();
      c.points.forEach((p, i) => {
        if (typeof p?.name !== 'string') return;
        const first = seen.get(p.name);
        if (first !== undefined) {
          ctx.addIssue({ code: 'custom', path: ['points', i, 'name'], message: `duplicate point name "${p.name}" (also points[${first}])` });
        } else seen.set(p.name, i);
      });
    },
    { when: (payload) => typeof payload.value === 'object' && payload.value !== null },
  );

export type FirmataDeviceConfig = z.output<typeof firmataDeviceSchema>;

export function firmataPointConfigs(c: FirmataDeviceConfig): PointPipelineConfig[] {
  return c.points.map(({ pin: _pin, type, controller: _c, pull_up: _p, ...pipeline }) =>
    type === 'thermometer' ? { unit: 'degC', ...pipeline } : pipeline,
  );
}

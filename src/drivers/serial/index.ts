/**
 * serial — sensors on a UART, USB-serial adapter or RS-485 line that stream frames:
 * Plantower PMS5003 and Nova SDS011 particulate sensors, NMEA GPS receivers, and any
 * sensor that prints a reading per line (regex or CSV). See README.md in this folder.
 *
 * Owns: the device schema (schema.ts), the point sets and units of each protocol
 * (points.ts), the pure protocol decoders (protocols/), and the run-time driver
 * (driver.ts) on top of the generic serial port layer in src/ports/serial.
 */
import type { DriverDefinition } from '../../core/driver.js';
import { SerialDriver } from './driver.js';
import { emittedPoints, mergePointConfigs } from './points.js';
import { serialDeviceSchema, type SerialDeviceConfig } from './schema.js';
import { serialPortNotes } from '../../core/primitives.js';

export const serialDriver: DriverDefinition<SerialDeviceConfig> = {
  name: 'serial',
  description: 'Serial sensors: PMS5003 / SDS011 particulate matter, NMEA GPS, or text lines (regex / CSV).',
  schema: serialDeviceSchema,
  create: (config) => new SerialDriver(config),
  claims: (config) => [`serial:${config.port}`],
  check: (config) => serialPortNotes(config.port),
  pointConfigs: (config) => mergePointConfigs(emittedPoints(config.protocol, config), config.points),
};

export { SerialDriver, type SerialDriverDeps } from './driver.js';
export type { SerialDeviceConfig } from './schema.js';

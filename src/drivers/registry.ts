/**
 * The driver and bus registry: a new driver is one folder under src/drivers/ and one
 * line here. The config schema, `citygate schema`, validation and the runtime all read
 * from these two lists.
 */
import type { BusDefinition, DriverDefinition } from '../core/driver.js';
import { simDriver } from './sim/index.js';
import { gpioDriver } from './gpio/index.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- heterogeneous registry; each entry is typed at its definition
export const DRIVERS: readonly DriverDefinition<any>[] = [
  simDriver,
  gpioDriver,
];

export const BUSES: readonly BusDefinition[] = [
];

export function findDriver(name: string): DriverDefinition | undefined {
  return DRIVERS.find((d) => d.name === name);
}

/**
 * The driver and bus registry: a new driver is one folder under src/drivers/ and one
 * line here. The config schema, `citygate schema`, validation and the runtime all read
 * from these two lists.
 */
import type { BusDefinition, DriverDefinition } from '../core/driver.js';
import { simDriver } from './sim/index.js';
import { modbusDriver } from './modbus/index.js';
import { modbusRtuBus, modbusTcpBus } from './modbus/schema.js';
import { gpioDriver } from './gpio/index.js';
import { firmataDriver } from './firmata/index.js';
import { serialDriver } from './serial/index.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- heterogeneous registry; each entry is typed at its definition
export const DRIVERS: readonly DriverDefinition<any>[] = [
  simDriver,
  modbusDriver,
  gpioDriver,
  firmataDriver,
  serialDriver,
];

export const BUSES: readonly BusDefinition[] = [
  modbusRtuBus, modbusTcpBus,
];

export function findDriver(name: string): DriverDefinition | undefined {
  return DRIVERS.find((d) => d.name === name);
}

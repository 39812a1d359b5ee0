/**
 * `citygate probe …`: on-site checks for technicians. Each bus or port kind adds its
 * subcommands from its own file.
 */
import type { Command } from 'commander';
import { registerModbusProbe } from './modbus.js';
import { registerSerialProbe } from './serial.js';
import { registerGpioProbe } from './gpio.js';

export function registerProbe(program: Command): void {
  const probe = program.command('probe').description('on-site checks: Modbus scan/read, serial sniff, GPIO watch/set');
  registerModbusProbe(probe);
  registerSerialProbe(probe);
  registerGpioProbe(probe);
}

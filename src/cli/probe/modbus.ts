import type { Command } from 'commander';

// Placeholder until the modbus probe lands (its issue owns this file).
export function registerModbusProbe(_probe: Command): void {}

import type { Command } from 'commander';

// Placeholder until the serial probe lands (its issue owns this file).
export function registerSerialProbe(_probe: Command): void {}

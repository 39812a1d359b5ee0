import type { Command } from 'commander';

// Placeholder until the gpio probe lands (its issue owns this file).
export function registerGpioProbe(_probe: Command): void {}

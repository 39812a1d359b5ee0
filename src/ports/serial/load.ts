/**
 * serialport, loaded on first use: its native binding costs ~5 MB of RSS, which a
 * gateway without serial devices should not pay (bench: RSS idle).
 */
import { createRequire } from 'node:module';
import type * as SerialPortModule from 'serialport';

const require = createRequire(import.meta.url);
let mod: typeof SerialPortModule | undefined;

export function serialport(): typeof SerialPortModule {
  mod ??= require('serialport') as typeof SerialPortModule;
  return mod;
}

/**
 * GPIO port: our interface to general-purpose I/O lines (port.ts holds the contract),
 * the sysfs base resolution that keeps config in BCM numbers (sysfs.ts), the onoff
 * adapter used in production, a plain-file sysfs port for a custom root, and a fake.
 */
export type { Edge, GpioLine, GpioLineOptions, GpioPort, Level, LineRef } from './port.js';
export { lineName, toLevel } from './port.js';
export { GpioSetupError, type GpioSetupProblem } from './errors.js';
export {
  DEFAULT_SYSFS_ROOT,
  PI_CONTROLLER_LABELS,
  checkExportAccess,
  describeChip,
  kernelNumber,
  listChips,
  preflight,
  resolveChip,
  resolveController,
  resolveLine,
  type GpioChip,
  type GpioController,
} from './sysfs.js';
export { OnoffGpioPort } from './onoff-port.js';
export { SysfsFileGpioPort } from './sysfs-file-port.js';
export { FakeGpioPort, FakeLine } from './fake-port.js';
export { GpiomonGpioPort, type GpiomonPortOptions } from './gpiomon-port.js';

import { OnoffGpioPort } from './onoff-port.js';
import type { GpioPort } from './port.js';
import { DEFAULT_SYSFS_ROOT } from './sysfs.js';
import { SysfsFileGpioPort } from './sysfs-file-port.js';

/** The port for a sysfs root: onoff on the real one, plain files (polled edges) elsewhere. */
export function createGpioPort(root = DEFAULT_SYSFS_ROOT): GpioPort {
  return root === DEFAULT_SYSFS_ROOT ? new OnoffGpioPort(root) : new SysfsFileGpioPort(root);
}

/**
 * Serial ports, behind our own interface (docs/architecture.md#ports-and-adapters).
 *
 * Owns: the SerialPorts / SerialConnection contract (port.ts), its serialport 13 adapter
 * (node-serialport.ts), port listing with a fallback when udevadm is missing (list.ts),
 * open errors people can act on (open-errors.ts), and ReconnectingSerial, which notices
 * an unplug and reopens with backoff (reconnecting.ts). Generic: serial sensors use it
 * today; any driver that speaks over a UART (Firmata boards) can reuse it.
 */
export type { SerialConnection, SerialPortInfo, SerialPortList, SerialPorts, SerialSettings, Parity, DataBits, StopBits } from './port.js';
export { NodeSerialPorts, type NodeSerialPortsOptions, type PortConstructor, type PortStream } from './node-serialport.js';
export { ReconnectingSerial, type ReconnectingSerialOptions } from './reconnecting.js';
export { SerialOpenError, explainOpenError } from './open-errors.js';
export { listPorts, type RawPortInfo } from './list.js';

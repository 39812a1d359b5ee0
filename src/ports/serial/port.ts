/**
 * The serial edge: every driver that speaks over a UART opens its port here, never
 * through the serialport library itself, so all of them share one settings type, one
 * factory, one set of open errors and one unplug behaviour, and are tested against a
 * fake and a pty pair alike (docs/architecture.md#the-port-contracts). Users: the serial
 * sensor driver (through ReconnectingSerial) and `citygate probe serial`, Modbus RTU
 * (drivers/modbus/serial-link.ts) and Firmata boards (drivers/firmata/serial-io.ts).
 *
 * Files: this contract; node-serialport.ts, its serialport 13 adapter; reconnecting.ts,
 * which notices an unplug and reopens with backoff on top of any implementation;
 * list.ts, port listing with a fallback when udevadm is missing; open-errors.ts, open
 * failures a technician can act on; load.ts, serialport loaded on first use.
 */

export type Parity = 'none' | 'even' | 'odd' | 'mark' | 'space';
export type DataBits = 5 | 6 | 7 | 8;
export type StopBits = 1 | 1.5 | 2;

export interface SerialSettings {
  /** Device path; prefer the stable /dev/serial/by-id/… links over /dev/ttyUSBn. */
  path: string;
  baudRate: number;
  dataBits: DataBits;
  parity: Parity;
  stopBits: StopBits;
}

/**
 * One open connection to a port.
 *
 * - `onData` handlers get bytes as the OS delivers them: chunk boundaries mean nothing
 *   (a frame may be split across chunks or several frames merged in one).
 * - `onClose` handlers run exactly once, when the connection ends for any reason: with
 *   the error for an unplug or I/O fault, without one after our own `close()`.
 *   Implementations must swallow the library's repeated close events.
 * - `onError` handlers get faults that did not end the connection (they are informative).
 * - `write` resolves once the bytes are handed to the OS; it rejects when the connection
 *   is not open or the write fails (a failed write on an unplugged adapter also ends the
 *   connection, so `onClose` follows). It never queues while closed.
 * - `close` is idempotent and resolves once the port is released; safe after an unplug.
 */
export interface SerialConnection {
  readonly path: string;
  readonly isOpen: boolean;
  onData(fn: (chunk: Buffer) => void): void;
  onClose(fn: (err?: Error) => void): void;
  onError(fn: (err: Error) => void): void;
  write(data: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

export interface SerialPortInfo {
  path: string;
  manufacturer?: string;
  serialNumber?: string;
  vendorId?: string;
  productId?: string;
  /** Stable /dev/serial/by-id/… links that point at this port. */
  byId?: string[];
}

export interface SerialPortList {
  ports: SerialPortInfo[];
  /** Set when the full listing failed and a plain /dev scan stood in (e.g. no udevadm). */
  warning?: string;
}

/**
 * Opens connections. `open` rejects with an error that names the path and says what to
 * try (not found, permission, busy); the error keeps the OS `code`. `exists` is a cheap
 * presence check (the device node or by-id link is there), used to notice an unplug on a
 * port we only read from. `list` never rejects.
 */
export interface SerialPorts {
  open(settings: SerialSettings): Promise<SerialConnection>;
  exists(path: string): Promise<boolean>;
  list(): Promise<SerialPortList>;
}

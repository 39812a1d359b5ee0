/**
 * The Firmata link: our interface to one Arduino-class board running StandardFirmata,
 * so the driver never touches johnny-five or firmata-io directly (docs/architecture.md#ports-and-adapters;
 * johnny-five's process-exit habits stay in johnny-five-link.ts).
 *
 * Contract:
 * - `openFirmataLink(options)` resolves once the board has answered the Firmata handshake
 *   (version, firmware, capabilities). It rejects, having released the serial port, when
 *   the port cannot be opened, the board does not answer within `timeoutMs`, or `signal`
 *   aborts. Its error names the port and what to check.
 * - `analog`, `digital` and `thermometer` subscribe to a pin; callbacks fire whenever the
 *   board reports (analog and thermometer: every sampling interval; digital: on change),
 *   never from a timer of their own, so a callback always means fresh data. They reject
 *   pins the board does not have (synchronously, with an error naming the pin).
 * - `lastHeard()` is the monotonic time of the last message from the board; `ping()` asks
 *   the board to answer (a version query), which also makes an unplugged port fail its
 *   write (serialport shows an unplug only then: docs/field-notes.md#unplug-shows-on-write).
 * - `onLost(cb)`: the port closed or errored under us (unplug), or the board rebooted
 *   (it forgets pin modes and reporting). Fired at most once; never after `close()`.
 * - `close()` stops every subscription and timer and closes the port. Idempotent, never
 *   rejects, and never exits the process.
 */
import type { Clock } from '../../core/clock.js';

export interface FirmataLinkOptions {
  port: string;
  baud: number;
  samplingIntervalMs: number;
  timeoutMs: number;
  /** Analog reference voltage for thermometer controllers. */
  aref: number;
  clock: Clock;
  signal?: AbortSignal;
}

export interface FirmataLink {
  /** Board description for logs, e.g. "StandardFirmata.ino 2.5 (6 analog, 20 pins)". */
  readonly description: string;
  analog(channel: number, cb: (raw: number) => void): void;
  digital(pin: number, pullUp: boolean, cb: (value: 0 | 1) => void): void;
  thermometer(channel: number, controller: string, cb: (celsius: number) => void): void;
  lastHeard(): number;
  ping(): void;
  onLost(cb: (err: Error) => void): void;
  close(): Promise<void>;
}

export type OpenFirmataLink = (options: FirmataLinkOptions) => Promise<FirmataLink>;

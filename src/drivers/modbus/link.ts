/**
 * The byte-link port: the only thing the Modbus bus layer knows about hardware or
 * the network (docs/architecture.md#ports-and-adapters). Adapters: serial-link.ts
 * (serialport), tcp-link.ts (node:net); tests use in-process fakes.
 *
 * Contract:
 * - `open(events)` resolves once bytes can flow, or rejects with an error that says
 *   what to check (missing device node, permission, connection refused). After a
 *   successful open, every received chunk goes to `events.data`, and `events.closed`
 *   is called exactly once when the link dies on its own (unplug, reset, EOF).
 * - `write` resolves once the bytes are queued for sending (it may resolve before they
 *   leave); it rejects at once if the link is down (the bus then treats the link as
 *   closed). A failure after queueing surfaces as `events.closed`.
 * - `close()` is idempotent and does not call `events.closed`.
 * - A link is single-use per open: after close or death, `open` may be called again.
 */
export interface LinkEvents {
  data(chunk: Buffer): void;
  closed(err?: Error): void;
}

export interface ByteLink {
  /** What a technician recognises: "/dev/ttyUSB0" or "10.0.0.5:502". */
  readonly name: string;
  readonly isOpen: boolean;
  open(events: LinkEvents): Promise<void>;
  write(data: Buffer): Promise<void>;
  close(): Promise<void>;
}

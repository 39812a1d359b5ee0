/**
 * The serial port contract (src/ports/serial/port.ts) as one suite, run against every
 * implementation: the serialport adapter on the mock binding (the fake drivers are tested
 * with, test/unit/contract/) and on a socat pty pair (real pseudo-terminals,
 * test/interop/). A fake that drifts from the real port fails here.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SerialOpenError } from '../../src/ports/serial/open-errors.js';
import type { SerialConnection, SerialPorts, SerialSettings } from '../../src/ports/serial/port.js';
import { until } from './until.js';

/** The device on the far end of a port. */
export interface SerialPeer {
  /** Bytes the device sends to us. */
  send(bytes: Buffer): Promise<void>;
  /** Everything the device has received from us so far. */
  received(): Buffer;
  /** Pull the adapter out. */
  unplug(): Promise<void>;
}

export interface SerialHarness {
  ports: SerialPorts;
  /** A present port with a device on the other end. */
  plug(): Promise<{ path: string; peer: SerialPeer }>;
  /** A path where no port exists. */
  missingPath: string;
  cleanup(): Promise<void>;
}

const settings = (path: string): SerialSettings => ({ path, baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 });

export function serialPortContract(name: string, make: () => Promise<SerialHarness>): void {
  describe(`serial port contract: ${name}`, () => {
    let h: SerialHarness | undefined;
    const conns: SerialConnection[] = [];
    const harness = async (): Promise<SerialHarness> => (h = await make());
    afterEach(async () => {
      for (const c of conns.splice(0)) await c.close();
      await h?.cleanup();
      h = undefined;
    });
    const open = async (hh: SerialHarness, path: string): Promise<SerialConnection> => {
      const c = await hh.ports.open(settings(path));
      conns.push(c);
      return c;
    };

    it('open of a missing port rejects naming the port and what to try, keeping the OS code', async () => {
      const hh = await harness();
      const err = await hh.ports.open(settings(hh.missingPath)).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(SerialOpenError);
      expect((err as SerialOpenError).message).toContain(`cannot open serial port ${hh.missingPath}: the port does not exist`);
      expect((err as SerialOpenError).code).toBe('ENOENT');
    });

    it('delivers bytes both ways in order, whatever the chunking', async () => {
      const hh = await harness();
      const { path, peer } = await hh.plug();
      const conn = await open(hh, path);
      expect(conn.isOpen).toBe(true);
      expect(conn.path).toBe(path);
      const got: Buffer[] = [];
      conn.onData((b) => got.push(b));
      const inbound = Buffer.from(Array.from({ length: 300 }, (_, i) => i & 0xff));
      for (let i = 0; i < inbound.length; i += 100) await peer.send(inbound.subarray(i, i + 100));
      await until(() => Buffer.concat(got).length >= inbound.length, 'bytes from the device');
      expect(Buffer.concat(got)).toEqual(inbound);
      const outbound = Buffer.from(Array.from({ length: 200 }, (_, i) => (i * 7) & 0xff));
      await conn.write(outbound.subarray(0, 50));
      await conn.write(outbound.subarray(50));
      await until(() => peer.received().length >= outbound.length, 'bytes to the device');
      expect(peer.received()).toEqual(outbound);
    });

    it('exists() tells a present port from a missing one; list() resolves', async () => {
      const hh = await harness();
      const { path } = await hh.plug();
      expect(await hh.ports.exists(path)).toBe(true);
      expect(await hh.ports.exists(hh.missingPath)).toBe(false);
      const list = await hh.ports.list();
      expect(Array.isArray(list.ports)).toBe(true);
    });

    it('close() is idempotent: onClose runs once, without an error; writes then reject', async () => {
      const hh = await harness();
      const { path } = await hh.plug();
      const conn = await open(hh, path);
      const closes: (Error | undefined)[] = [];
      conn.onClose((e) => closes.push(e));
      await Promise.all([conn.close(), conn.close()]);
      await conn.close();
      expect(closes).toEqual([undefined]);
      expect(conn.isOpen).toBe(false);
      await expect(conn.write(Buffer.from([1]))).rejects.toThrow(path);
    });

    it('an unplug ends the connection once, with an error (at the latest when a write fails); close() afterwards is harmless', async () => {
      const hh = await harness();
      const { path, peer } = await hh.plug();
      const conn = await open(hh, path);
      const closes: (Error | undefined)[] = [];
      conn.onClose((e) => closes.push(e));
      conn.onError(() => undefined);
      await peer.unplug();
      // serialport may show the unplug only when a write fails: keep writing, as a driver would.
      await until(
        async () => {
          if (closes.length === 0) await conn.write(Buffer.from([0x55])).catch(() => undefined);
          return closes.length > 0;
        },
        'the unplug reported',
        5000,
        50,
      );
      expect(closes).toHaveLength(1);
      expect(closes[0]).toBeInstanceOf(Error);
      expect(conn.isOpen).toBe(false);
      await expect(conn.write(Buffer.from([1]))).rejects.toThrow();
      await conn.close();
      await conn.close();
      expect(closes).toHaveLength(1);
    });
  });
}

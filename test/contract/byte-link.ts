/**
 * The byte-link contract (src/drivers/modbus/link.ts) as one suite, run against the
 * in-process RTU line the Modbus tests use (FakeRtuLink), the TCP adapter on a real
 * loopback socket, and the serial adapter on the mock binding
 * (test/unit/contract/byte-link.test.ts) and on a socat pty pair (test/interop/).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ByteLink } from '../../src/drivers/modbus/link.js';
import { until } from './until.js';

/** The far end of a link (a slave, a PLC, a gateway). */
export interface LinkPeer {
  send(bytes: Buffer): Promise<void>;
  received(): Buffer;
  /** The far end goes away (cable pulled, PLC power cycle, connection reset). */
  kill(): Promise<void>;
}

export interface LinkHarness {
  /** A link whose far end is there; `peer()` is the far end of its current open. */
  link: ByteLink;
  peer(): LinkPeer;
  /** A link that cannot open (nothing at the other end). */
  broken: ByteLink;
  cleanup(): Promise<void>;
}

export function byteLinkContract(name: string, make: () => Promise<LinkHarness>): void {
  describe(`byte link contract: ${name}`, () => {
    let h: LinkHarness | undefined;
    const harness = async (): Promise<LinkHarness> => (h = await make());
    afterEach(async () => {
      await h?.link.close();
      await h?.cleanup();
      h = undefined;
    });
    const events = () => {
      const data: Buffer[] = [];
      const closed: (Error | undefined)[] = [];
      return { data, closed, handlers: { data: (b: Buffer) => data.push(b), closed: (e?: Error) => closed.push(e) } };
    };

    it('open of a link that cannot connect rejects naming it; the link stays closed', async () => {
      const hh = await harness();
      await expect(hh.broken.open(events().handlers)).rejects.toThrow(hh.broken.name);
      expect(hh.broken.isOpen).toBe(false);
      await expect(hh.broken.write(Buffer.from([1]))).rejects.toThrow();
    });

    it('carries bytes both ways, in order', async () => {
      const hh = await harness();
      const ev = events();
      await hh.link.open(ev.handlers);
      expect(hh.link.isOpen).toBe(true);
      const inbound = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      await hh.peer().send(inbound.subarray(0, 100));
      await hh.peer().send(inbound.subarray(100));
      await until(() => Buffer.concat(ev.data).length >= inbound.length, 'bytes from the far end');
      expect(Buffer.concat(ev.data)).toEqual(inbound);
      const outbound = Buffer.from('01030000000a', 'hex');
      await hh.link.write(outbound);
      await until(() => hh.peer().received().length >= outbound.length, 'bytes to the far end');
      expect(hh.peer().received()).toEqual(outbound);
      expect(ev.closed).toEqual([]);
    });

    it('close() is idempotent and does not report closed; writes then reject; it opens again', async () => {
      const hh = await harness();
      const ev = events();
      await hh.link.open(ev.handlers);
      await hh.link.close();
      await hh.link.close();
      expect(hh.link.isOpen).toBe(false);
      expect(ev.closed).toEqual([]);
      await expect(hh.link.write(Buffer.from([1]))).rejects.toThrow();
      const again = events();
      await hh.link.open(again.handlers);
      await hh.peer().send(Buffer.from([7, 8, 9]));
      await until(() => Buffer.concat(again.data).length >= 3, 'bytes after a reopen');
      expect(Buffer.concat(again.data)).toEqual(Buffer.from([7, 8, 9]));
    });

    it('when the far end goes away, closed is reported exactly once (at the latest on a write); writes then reject', async () => {
      const hh = await harness();
      const ev = events();
      await hh.link.open(ev.handlers);
      await hh.peer().kill();
      await until(
        async () => {
          if (ev.closed.length === 0) await hh.link.write(Buffer.from([0])).catch(() => undefined);
          return ev.closed.length > 0;
        },
        'the loss reported',
        5000,
        50,
      );
      await new Promise((r) => setTimeout(r, 30));
      expect(ev.closed).toHaveLength(1);
      expect(hh.link.isOpen).toBe(false);
      await expect(hh.link.write(Buffer.from([1]))).rejects.toThrow();
      await hh.link.close();
      expect(ev.closed).toHaveLength(1);
    });
  });
}

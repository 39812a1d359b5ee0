/**
 * The byte-link contract for Modbus RTU's serial adapter on real pseudo-terminals: the
 * link on end A of a socat pty pair, the far end (a slave) on end B. Killing socat is the
 * unplug. The fakes run the same suite in test/unit/contract/byte-link.test.ts.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { SerialLink } from '../../src/drivers/modbus/serial-link.js';
import { byteLinkContract } from '../contract/byte-link.js';
import { PtyPair } from '../helpers/socat.js';

byteLinkContract('SerialLink on a socat pty pair', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cg-link-'));
  const pair = new PtyPair(dir);
  await pair.start();
  const device = new SerialPort({ path: pair.b, baudRate: 9600, autoOpen: false });
  device.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => device.open((e) => (e ? reject(e) : resolve())));
  const got: Buffer[] = [];
  device.on('data', (b: Buffer) => got.push(b));
  const settings = { path: pair.a, baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 } as const;
  return {
    link: new SerialLink(settings),
    broken: new SerialLink({ ...settings, path: join(dir, 'ttyMISSING') }),
    peer: () => ({
      send: (bytes) => new Promise<void>((resolve, reject) => device.write(bytes, (e) => (e ? reject(e) : device.drain(() => resolve())))),
      received: () => Buffer.concat(got),
      kill: () => pair.stop(),
    }),
    async cleanup() {
      if (device.isOpen) await new Promise<void>((r) => device.close(() => r()));
      await pair.stop();
    },
  };
});

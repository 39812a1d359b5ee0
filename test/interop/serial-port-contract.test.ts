/**
 * The serial port contract on real pseudo-terminals: NodeSerialPorts on end A of a socat
 * pty pair, the device on end B (opened with serialport, as a USB sensor's far side
 * would be). Killing socat is the unplug. The same suite runs against the mock binding in
 * test/unit/contract/serial-port.test.ts, so the fake cannot drift from this.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { NodeSerialPorts } from '../../src/ports/serial/node-serialport.js';
import { serialPortContract } from '../contract/serial-port.js';
import { PtyPair } from '../helpers/socat.js';

serialPortContract('NodeSerialPorts on a socat pty pair', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cg-contract-'));
  const pairs: PtyPair[] = [];
  const devices: SerialPort[] = [];
  return {
    ports: new NodeSerialPorts(),
    missingPath: join(dir, 'ttyMISSING'),
    async plug() {
      const pair = new PtyPair(mkdtempSync(join(dir, 'pair-')));
      pairs.push(pair);
      await pair.start();
      const device = new SerialPort({ path: pair.b, baudRate: 9600, autoOpen: false });
      devices.push(device);
      device.on('error', () => undefined);
      await new Promise<void>((resolve, reject) => device.open((e) => (e ? reject(e) : resolve())));
      const got: Buffer[] = [];
      device.on('data', (b: Buffer) => got.push(b));
      return {
        path: pair.a,
        peer: {
          send: (bytes) => new Promise<void>((resolve, reject) => device.write(bytes, (e) => (e ? reject(e) : device.drain(() => resolve())))),
          received: () => Buffer.concat(got),
          unplug: () => pair.stop(),
        },
      };
    },
    async cleanup() {
      for (const d of devices.splice(0)) if (d.isOpen) await new Promise<void>((r) => d.close(() => r()));
      for (const p of pairs.splice(0)) await p.stop();
    },
  };
});

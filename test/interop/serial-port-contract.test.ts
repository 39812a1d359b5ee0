/**
 * The serial port contract on real pseudo-terminals: NodeSerialPorts on end A of a socat
 * pty pair, the device on end B (opened with serialport, as a USB sensor's far side
 * would be). Killing socat is the unplug. The same suite runs against the mock binding in
 * test/unit/contract/serial-port.test.ts, so the fake cannot drift from this.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeSerialPorts } from '../../src/ports/serial/node-serialport.js';
import { serialPortContract } from '../contract/serial-port.js';
import { PtyPair, openPtyDevice, type PtyDevice } from '../helpers/socat.js';

serialPortContract('NodeSerialPorts on a socat pty pair', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cg-contract-'));
  const pairs: PtyPair[] = [];
  const devices: PtyDevice[] = [];
  return {
    ports: new NodeSerialPorts(),
    missingPath: join(dir, 'ttyMISSING'),
    async plug() {
      const pair = new PtyPair(mkdtempSync(join(dir, 'pair-')));
      pairs.push(pair);
      await pair.start();
      const device = await openPtyDevice(pair.b);
      devices.push(device);
      return {
        path: pair.a,
        peer: { send: device.send, received: device.received, unplug: () => pair.stop() },
      };
    },
    async cleanup() {
      for (const d of devices.splice(0)) await d.close();
      for (const p of pairs.splice(0)) await p.stop();
    },
  };
});

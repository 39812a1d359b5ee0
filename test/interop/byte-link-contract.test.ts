/**
 * The byte-link contract for Modbus RTU's serial adapter on real pseudo-terminals: the
 * link on end A of a socat pty pair, the far end (a slave) on end B. Killing socat is the
 * unplug. The fakes run the same suite in test/unit/contract/byte-link.test.ts.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialLink } from '../../src/drivers/modbus/serial-link.js';
import { byteLinkContract } from '../contract/byte-link.js';
import { PtyPair, openPtyDevice } from '../helpers/socat.js';

byteLinkContract('SerialLink on a socat pty pair', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cg-link-'));
  const pair = new PtyPair(dir);
  await pair.start();
  const device = await openPtyDevice(pair.b);
  const settings = { path: pair.a, baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 } as const;
  return {
    link: new SerialLink(settings),
    broken: new SerialLink({ ...settings, path: join(dir, 'ttyMISSING') }),
    peer: () => ({ send: device.send, received: device.received, kill: () => pair.stop() }),
    async cleanup() {
      await device.close();
      await pair.stop();
    },
  };
});

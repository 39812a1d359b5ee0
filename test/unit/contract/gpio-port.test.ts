/**
 * The GPIO port contract against the in-memory fake the drivers are tested with and
 * against the sysfs adapter on a sysfs tree the test builds (a Pi 4 on Bookworm: BCM n
 * is gpio(512 + n)), so the fake cannot drift from what a real line does.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FakeGpioPort } from '../../../src/ports/gpio/fake-port.js';
import { SysfsFileGpioPort } from '../../../src/ports/gpio/sysfs-file-port.js';
import { CONTRACT_PINS, gpioPortContract } from '../../contract/gpio-port.js';
import { TREES, buildTree } from '../gpio/fixtures/tree.js';

gpioPortContract('FakeGpioPort', async () => {
  const port = new FakeGpioPort();
  return {
    port,
    async drive(pin, level) {
      const line = port.lines.get(String(pin));
      if (line && !line.closed) await line.drive(level);
      else port.initialLevels.set(pin, level);
    },
    sense: async (pin) => port.line(pin).level,
    async cleanup() {},
  };
});

gpioPortContract('SysfsFileGpioPort on a built sysfs tree', async () => {
  const base = 512;
  const root = buildTree(TREES['bcm2711-bookworm'] ?? [], { exported: CONTRACT_PINS.map((p) => base + p) });
  const value = (pin: number): string => join(root, `gpio${base + pin}`, 'value');
  return {
    port: new SysfsFileGpioPort(root, { pollMs: 2 }),
    drive: (pin, level) => writeFile(value(pin), `${level}\n`),
    sense: async (pin) => ((await readFile(value(pin), 'utf8')).trim() === '1' ? 1 : 0),
    async cleanup() {},
  };
});

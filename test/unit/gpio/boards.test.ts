// boards/rain-traffic.yaml validates, and its devices do what its comments promise.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkConfigText } from '../../../src/config/load.js';
import { FakeClock } from '../../../src/core/fake-clock.js';
import { GpioDriver, gpioDriver } from '../../../src/drivers/gpio/index.js';
import type { GpioDeviceConfig } from '../../../src/drivers/gpio/schema.js';
import { FakeGpioPort } from '../../../src/ports/gpio/fake-port.js';
import type { Level } from '../../../src/ports/gpio/port.js';
import { testContext } from '../../helpers/driver-context.js';

const root = join(import.meta.dirname, '../../..');
function load(name: string) {
  const file = `boards/${name}`;
  const r = checkConfigText(readFileSync(join(root, file), 'utf8'), file, { env: { MQTT_PASSWORD: 'x' }, missingEnv: 'error' });
  expect(r.issues).toEqual([]);
  expect(r.warnings).toEqual([]);
  return r.config!;
}
const device = (id: string) =>
  load('rain-traffic.yaml').devices.find((d) => (d as { id: string }).id === id) as unknown as GpioDeviceConfig;

describe('boards/rain-traffic.yaml', () => {
  it('validates: uplink over TLS with the password from the environment', () => {
    const cfg = load('rain-traffic.yaml');
    expect(cfg.uplink.url).toBe('mqtts://broker.example:8883');
    expect(cfg.uplink.password).toBe('x');
    expect(cfg.devices.map((d) => (d as { id: string }).id)).toEqual(['rain', 'traffic', 'door', 'heater']);
    expect(cfg.devices.flatMap((d) => gpioDriver.claims?.(d as unknown as GpioDeviceConfig) ?? [])).toEqual(['gpio:17', 'gpio:27', 'gpio:22', 'gpio:18']);
  });

  it('rain: ten bouncing tips in a minute are 2.794 mm, 167.64 mm/h', async () => {
    const clock = new FakeClock();
    const port = new FakeGpioPort();
    port.initialLevels.set(17, 1);
    const ctx = testContext({ clock, device: 'rain' });
    const driver = new GpioDriver(device('rain'), () => port);
    await driver.start(ctx);
    const line = port.line(17);
    for (let i = 0; i < 10; i++) {
      for (const v of [0, 1, 0, 1, 0, 1, 0] as Level[]) {
        await line.drive(v);
        clock.advance(1);
      }
      clock.advance(200);
      await line.drive(1);
      clock.advance(2000);
    }
    clock.advance(60_000 - clock.mono());
    expect(ctx.samples).toEqual([
      { point: 'count', value: 2.794, quality: 'good' },
      { point: 'rate', value: 167.64, quality: 'good' },
      { point: 'total', value: 2.794, quality: 'good' },
    ]);
    expect(gpioDriver.pointConfigs?.(device('rain'))).toEqual([
      { name: 'count', unit: 'mm' },
      { name: 'rate', unit: 'mm/h' },
      { name: 'total', unit: 'mm' },
    ]);
    await driver.stop();
  });

  it('heater: an active-low relay that is off at start and whenever citygate stops', async () => {
    const port = new FakeGpioPort();
    const driver = new GpioDriver(device('heater'), () => port);
    await driver.start(testContext({ clock: new FakeClock(), device: 'heater' }));
    expect(port.line(18).opts).toEqual({ direction: 'out', initial: 0, activeLow: true });
    await driver.actions.gpio_set?.({ value: 1 });
    await driver.stop();
    expect(port.line(18).writes).toEqual([1, 0]);
  });
});

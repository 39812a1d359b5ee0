// boards/firmata-analog.yaml validates, and its Uno reads what its comments promise.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkConfigText } from '../../../src/config/load.js';
import { FakeClock } from '../../../src/core/fake-clock.js';
import { FirmataDriver, firmataDriver } from '../../../src/drivers/firmata/index.js';
import { johnnyFiveLink } from '../../../src/drivers/firmata/johnny-five-link.js';
import type { FirmataDeviceConfig } from '../../../src/drivers/firmata/schema.js';
import { testContext } from '../../helpers/driver-context.js';
import { mockIo, purgeBoards, type MockHandle } from './fixtures/mock-io.js';

const root = join(import.meta.dirname, '../../..');
function uno(): FirmataDeviceConfig {
  const file = 'boards/firmata-analog.yaml';
  const r = checkConfigText(readFileSync(join(root, file), 'utf8'), file, { env: { MQTT_PASSWORD: 'x' }, missingEnv: 'error' });
  expect(r.issues).toEqual([]);
  expect(r.warnings).toEqual([]);
  expect(r.config?.uplink.url).toBe('mqtts://broker.example:8883');
  return r.config?.devices[0] as unknown as FirmataDeviceConfig;
}

afterEach(() => purgeBoards());

describe('boards/firmata-analog.yaml', () => {
  it('validates, claims the by-id port and gives the pipeline its scales', () => {
    const c = uno();
    expect(firmataDriver.claims?.(c)).toEqual(['serial:/dev/serial/by-id/usb-Arduino__www.arduino.cc__0043_75833353035351D0E1C1-if00']);
    expect(firmataDriver.pointConfigs?.(c).map((p) => [p.name, p.unit, p.scale, p.offset])).toEqual([
      ['shelter-temp', 'degC', undefined, -0.5],
      ['light', '%', 0.0977, undefined],
      ['battery', 'V', 0.015287, undefined],
      ['bench', undefined, undefined, undefined],
    ]);
  });

  it('reads the LM35, the LDR, the battery divider and the bench switch', async () => {
    const handles: MockHandle[] = [];
    const cfg = uno();
    const clock = new FakeClock();
    const ctx = testContext({ clock, device: 'uno' });
    const driver = new FirmataDriver(
      cfg,
      johnnyFiveLink(() => {
        const h = mockIo();
        handles.push(h);
        return h;
      }),
    );
    await driver.start(ctx);
    const io = handles[0]!.io;
    expect(io.modes).toEqual(expect.arrayContaining([[7, 0x0b]]));
    io.emit('analog-read-0', 45); // 220 mV → 22 °C
    io.emit('analog-read-1', 512);
    io.emit('analog-read-2', 817); // 12.49 V after the pipeline's scale
    io.emit('digital-read-7', 0);
    clock.advance(10_000);
    expect(ctx.samples).toEqual([
      { point: 'shelter-temp', value: 22 },
      { point: 'light', value: 512 },
      { point: 'battery', value: 817 },
      { point: 'bench', value: 0 },
    ]);
    await driver.stop();
  });
});

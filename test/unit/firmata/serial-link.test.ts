// The production link — johnny-five over firmata-io over the serial port layer (serialport
// 13) — against a byte-level StandardFirmata peer on serialport's mock binding.
import { SerialPortMock } from 'serialport';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/core/fake-clock.js';
import { FirmataDriver } from '../../../src/drivers/firmata/index.js';
import { johnnyFiveLink } from '../../../src/drivers/firmata/johnny-five-link.js';
import { firmataDeviceSchema } from '../../../src/drivers/firmata/schema.js';
import { serialFirmataIo } from '../../../src/drivers/firmata/serial-io.js';
import { testContext } from '../../helpers/driver-context.js';
import { FirmataPeer, peerPorts } from './fixtures/firmata-peer.js';
import { purgeBoards } from './fixtures/mock-io.js';

const until = async (cond: () => boolean, ms = 3000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};

afterEach(() => {
  purgeBoards();
  SerialPortMock.binding.reset();
});

function setup(missing: ReadonlySet<string> = new Set()) {
  const peers: FirmataPeer[] = [];
  const cfg = firmataDeviceSchema.parse({
    id: 'uno',
    driver: 'firmata',
    port: '/dev/serial/by-id/usb-Arduino_Uno-if00',
    poll: '1s',
    stale_after: '60s', // the test advances fake time fast while real bytes trickle in
    points: [
      { name: 'a0', pin: 'A0' },
      { name: 'a3', pin: 'A3', scale: 0.00489 },
    ],
  });
  const clock = new FakeClock();
  const ctx = testContext({ clock, device: 'uno' });
  const driver = new FirmataDriver(cfg, johnnyFiveLink(serialFirmataIo(peerPorts(peers, missing))));
  return { peers, cfg, clock, ctx, driver };
}

describe('firmata over the serial port layer (firmata-io, scripted StandardFirmata peer)', { timeout: 10_000 }, () => {
  it('completes the Firmata handshake and reads analog pins', async () => {
    const { peers, clock, ctx, driver } = setup();
    await driver.start(ctx);
    const peer = peers[0] as FirmataPeer;
    await until(() => peer.reporting.size === 2); // writes reach the board asynchronously
    expect([...peer.reporting].sort()).toEqual([0, 3]);
    // sampling interval: the schema default 100ms, sent as a sysex after the handshake
    expect(peer.received).toContainEqual([0xf0, 0x7a, 100, 0, 0xf7]);
    peer.analog(0, 1023);
    peer.analog(3, 300);
    await until(() => {
      clock.advance(1000);
      return ctx.samples.length >= 2;
    });
    expect(ctx.samples.slice(0, 2)).toEqual([
      { point: 'a0', value: 1023 },
      { point: 'a3', value: 300 },
    ]);
    await driver.stop();
    expect(peer.port.isOpen).toBe(false);
  });

  it('an unplug shows on the next ping write (EIO) and fails the driver', async () => {
    const { peers, clock, ctx, driver } = setup();
    await driver.start(ctx);
    (peers[0] as FirmataPeer).unplug();
    await until(() => {
      clock.advance(1000);
      return ctx.failures.length > 0;
    });
    expect(String(ctx.failures[0])).toMatch(/firmata device "uno": firmata board on \/dev\/serial\/by-id\/usb-Arduino_Uno-if00: .*unplugged or reset\?/);
    await driver.stop();
    // and the supervisor's restart opens a fresh session on the replugged board
    purgeBoards();
    await driver.start(ctx);
    expect(peers).toHaveLength(2);
    await driver.stop();
  });

  it('start rejects with what to check when the port cannot be opened, leaving nothing open', async () => {
    const { peers, ctx, driver } = setup(new Set(['/dev/serial/by-id/usb-Arduino_Uno-if00']));
    await expect(driver.start(ctx)).rejects.toThrow(
      /cannot open serial port \/dev\/serial\/by-id\/usb-Arduino_Uno-if00: the port does not exist: is the adapter plugged in\?/,
    );
    expect(peers.every((p) => !p.port.isOpen)).toBe(true);
    await driver.stop();
  });
});

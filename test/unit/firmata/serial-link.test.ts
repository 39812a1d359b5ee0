// The production link — johnny-five over firmata-io over a serialport-13 port — against a
// byte-level StandardFirmata peer on serialport's mock binding.
import { SerialPortMock } from 'serialport';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/core/fake-clock.js';
import { FirmataDriver } from '../../../src/drivers/firmata/index.js';
import { johnnyFiveLink } from '../../../src/drivers/firmata/johnny-five-link.js';
import { firmataDeviceSchema } from '../../../src/drivers/firmata/schema.js';
import { serialFirmataIo } from '../../../src/drivers/firmata/serial-io.js';
import { testContext } from '../../helpers/driver-context.js';
import { FirmataPeer, peerSerial } from './fixtures/firmata-peer.js';
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

function setup() {
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
  const driver = new FirmataDriver(cfg, johnnyFiveLink(serialFirmataIo(peerSerial(peers))));
  return { peers, cfg, clock, ctx, driver };
}

describe('firmata over serialport 13 (firmata-io, scripted StandardFirmata peer)', { timeout: 10_000 }, () => {
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
});

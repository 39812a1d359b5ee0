/** Device health as ops read it: a lost port counts as an error, every last error has a time. */
import { describe, expect, it } from 'vitest';
import { DeviceHealth } from '../../../src/health/device-health.js';
import { FakeClock } from '../../../src/core/fake-clock.js';

describe('DeviceHealth', () => {
  it('a device forced down (a serial port unplugged) counts one error with its reason and time', () => {
    const clock = new FakeClock({ wall: Date.UTC(2026, 5, 1) });
    const h = new DeviceHealth('pm', clock);
    h.setState('down', 'serial port /dev/ttyUSB0 lost (EIO)');
    clock.advance(60_000);
    h.setState('down', 'serial port /dev/ttyUSB0 lost (EIO)'); // the same outage: not counted twice
    const s = h.snapshot();
    expect(s).toMatchObject({ state: 'down', errors: 1, last_error: 'serial port /dev/ttyUSB0 lost (EIO)', last_error_at: Date.UTC(2026, 5, 1) });
    h.setState('ok');
    h.error(new Error('CRC mismatch'), 'rs485-1');
    expect(h.snapshot()).toMatchObject({ errors: 2, last_error: 'rs485-1: CRC mismatch', last_error_at: Date.UTC(2026, 5, 1) + 60_000 });
  });
});

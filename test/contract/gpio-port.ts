/**
 * The GPIO port contract (src/ports/gpio/port.ts) as one suite, run against the in-memory
 * fake the drivers are tested with (FakeGpioPort) and against the sysfs adapter on a
 * sysfs directory tree the test builds (SysfsFileGpioPort): test/unit/contract/gpio-port.test.ts.
 * Levels here are logical and lines are not active-low, so the outside world's level is
 * the level a line reads.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { GpioLine, GpioPort, Level } from '../../src/ports/gpio/port.js';
import { until } from './until.js';

export interface GpioHarness {
  port: GpioPort;
  /** The outside world holds BCM `pin` at `level` (a switch, a sensor output). */
  drive(pin: number, level: Level): Promise<void>;
  /** The level on BCM `pin` as the outside world sees it (an output we drive). */
  sense(pin: number): Promise<Level>;
  cleanup(): Promise<void>;
}

/** BCM pins the harness must provide (free to open). */
export const CONTRACT_PINS = [17, 18, 22, 23] as const;

export function gpioPortContract(name: string, make: () => Promise<GpioHarness>): void {
  describe(`GPIO port contract: ${name}`, () => {
    let h: GpioHarness | undefined;
    const lines: GpioLine[] = [];
    const harness = async (): Promise<GpioHarness> => (h = await make());
    afterEach(async () => {
      for (const l of lines.splice(0)) await l.close();
      await h?.cleanup();
      h = undefined;
    });
    const open = async (hh: GpioHarness, ...args: Parameters<GpioPort['open']>): Promise<GpioLine> => {
      const l = await hh.port.open(...args);
      lines.push(l);
      return l;
    };

    it('an input reads the level the outside world holds', async () => {
      const hh = await harness();
      await hh.drive(17, 1);
      const line = await open(hh, 17, { direction: 'in' });
      expect(line.pin).toBe(17);
      expect(await line.read()).toBe(1);
      await hh.drive(17, 0);
      expect(await line.read()).toBe(0);
    });

    it('watch reports each transition of the configured edge, asynchronously, until unsubscribed', async () => {
      const hh = await harness();
      await hh.drive(17, 0);
      const both = await open(hh, 17, { direction: 'in', edge: 'both' });
      await both.read();
      const seen: Level[] = [];
      let inside = false;
      const stop = both.watch((v) => {
        expect(inside).toBe(false); // never re-entrant, never from inside the change itself
        seen.push(v);
      });
      inside = true;
      const driving = hh.drive(17, 1);
      inside = false;
      await driving;
      await until(() => seen.length >= 1, 'the rising edge');
      await hh.drive(17, 0);
      await until(() => seen.length >= 2, 'the falling edge');
      expect(seen).toEqual([1, 0]);
      stop();
      await hh.drive(17, 1);
      await new Promise((r) => setTimeout(r, 40));
      expect(seen).toEqual([1, 0]);
    });

    it('a rising-edge watch ignores falling edges', async () => {
      const hh = await harness();
      await hh.drive(22, 1);
      const line = await open(hh, 22, { direction: 'in', edge: 'rising' });
      await line.read();
      const seen: Level[] = [];
      line.watch((v) => seen.push(v));
      await hh.drive(22, 0);
      // long enough for a polling port to see the low level (it cannot see shorter pulses)
      await new Promise((r) => setTimeout(r, 100));
      expect(seen).toEqual([]);
      await hh.drive(22, 1);
      await until(() => seen.length >= 1, 'the rising edge');
      expect(seen).toEqual([1]);
    });

    it('an output starts at its initial level and follows write(); the outside world sees it', async () => {
      const hh = await harness();
      const line = await open(hh, 18, { direction: 'out', initial: 1 });
      expect(await line.read()).toBe(1);
      expect(await hh.sense(18)).toBe(1);
      await line.write(0);
      expect(await line.read()).toBe(0);
      expect(await hh.sense(18)).toBe(0);
    });

    it('writing to an input rejects, naming the pin', async () => {
      const hh = await harness();
      const line = await open(hh, 23, { direction: 'in' });
      await expect(line.write(1)).rejects.toThrow(/23/);
    });

    it('a pin already open through the same port is refused; after close() it opens again', async () => {
      const hh = await harness();
      const first = await hh.port.open(23, { direction: 'in' });
      await expect(hh.port.open(23, { direction: 'in' })).rejects.toThrow(/23/);
      await first.close();
      await first.close(); // idempotent, never rejects
      const again = await open(hh, 23, { direction: 'in' });
      expect(await again.read()).toBe(0);
    });
  });
}

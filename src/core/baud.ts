/**
 * Baud rates a config may name: the standard rates Linux sets directly (termios
 * B50 … B4000000). serialport (@serialport/bindings-cpp) can also program other rates
 * on Linux through a custom divisor (termios2 BOTHER), but USB adapters round such
 * rates differently and slaves seldom offer them: a rate not in this list is almost
 * always a typo (9601 for 9600), so it is refused with the nearest standard rate.
 */
import { z } from 'zod';

export const STANDARD_BAUDS = [
  50, 75, 110, 134, 150, 200, 300, 600, 1200, 1800, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 500000, 576000, 921600, 1000000, 1152000,
  1500000, 2000000, 2500000, 3000000, 3500000, 4000000,
] as const;

/** The standard rate nearest to `n` (by ratio: 9601 → 9600, 14400 → 19200 or 9600). */
export function nearestBaud(n: number, within: readonly number[] = STANDARD_BAUDS): number {
  let best = within[0]!;
  for (const b of within) if (Math.abs(Math.log(b / n)) < Math.abs(Math.log(best / n))) best = b;
  return best;
}

/** A baud-rate field accepting the standard rates between `min` and `max`. */
export function baudField(min: number, max: number) {
  const allowed = STANDARD_BAUDS.filter((b) => b >= min && b <= max);
  return z
    .number({ error: (iss) => `expected a baud rate like 9600, got ${JSON.stringify(iss.input)}` })
    .int()
    .min(min)
    .max(max)
    .refine((n) => !Number.isInteger(n) || n < min || n > max || (allowed as readonly number[]).includes(n), {
      // (out of range is already said by min/max)
      error: (iss) => `${String(iss.input)} is not a standard baud rate — did you mean ${nearestBaud(Number(iss.input), allowed)}? (standard: ${allowed.join(', ')})`,
    })
    .meta({ enum: allowed }); // for editors: JSON Schema sees no refine
}

/**
 * Link profiles of the field, as shapes per direction for test/helpers/netns.ts. The
 * latency figure of a profile is the round trip: half of it is added each way.
 * Loss applies to each direction independently (a lost ACK costs as much as a lost
 * segment on a cellular link).
 */
import type { LinkShape } from '../helpers/netns.js';

export interface LinkProfile {
  name: string;
  /** One line for the report table. */
  label: string;
  /** Gateway → broker. */
  up: LinkShape;
  /** Broker → gateway. */
  down: LinkShape;
}

export const PROFILES: LinkProfile[] = [
  {
    name: '2g',
    label: '2G/EDGE: 200 kbit/s, RTT 300 ms ±20, 1 % loss',
    up: { rateKbit: 200, delayMs: 150, jitterMs: 10, loss: 0.01 },
    down: { rateKbit: 200, delayMs: 150, jitterMs: 10, loss: 0.01 },
  },
  {
    name: '3g',
    label: '3G: 1 Mbit/s up, 2 Mbit/s down, RTT 120 ms ±30, 0.5 % loss',
    up: { rateKbit: 1000, delayMs: 60, jitterMs: 15, loss: 0.005 },
    down: { rateKbit: 2000, delayMs: 60, jitterMs: 15, loss: 0.005 },
  },
  {
    name: 'high-latency',
    label: 'high latency: 2 Mbit/s, RTT 600 ms ±40, no loss',
    up: { rateKbit: 2000, delayMs: 300, jitterMs: 20 },
    down: { rateKbit: 2000, delayMs: 300, jitterMs: 20 },
  },
  {
    name: 'loss-10',
    label: '10 % loss each way: 5 Mbit/s, RTT 50 ms',
    up: { rateKbit: 5000, delayMs: 25, loss: 0.1 },
    down: { rateKbit: 5000, delayMs: 25, loss: 0.1 },
  },
];

export function profile(name: string): LinkProfile {
  const p = PROFILES.find((x) => x.name === name);
  if (!p) throw new Error(`unknown link profile ${name} (known: ${PROFILES.map((x) => x.name).join(', ')})`);
  return p;
}

/** The device every link run uses: 100 counter points sampled once a second (100 readings/s). */
export function meterDevice(poll = '1s'): Record<string, unknown> {
  return { id: 'meter', driver: 'sim', poll, points: [{ name: 'p', wave: 'counter', replicas: 100 }] };
}

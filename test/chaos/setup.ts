/**
 * The gateway config of the chaos run: three sim devices of counter points (a counter
 * lets the run see readings that vanished before they had a seq), ~300 readings/s in
 * all (moderate: the machine is shared), short keepalive and ack timeout so a black
 * hole is noticed within seconds, no status page (a service must live without it), and
 * max_age 1 day: nothing in a run is that old, so any max_age drop is a clock-step bug.
 * The drain config is the same gateway with every device disabled: it only delivers
 * the backlog.
 */
const DEVICES = [
  { id: 'meter-a', driver: 'sim', poll: '20ms', points: [{ name: 'c', wave: 'counter', replicas: 5 }] },
  { id: 'meter-b', driver: 'sim', poll: '100ms', points: [{ name: 'c', wave: 'counter', replicas: 3 }] },
  { id: 'pulse', driver: 'sim', poll: '250ms', points: [{ name: 'n', wave: 'counter' }] },
];

export function chaosConfig(id: string, dataDir: string, port: number, devices: unknown[] = DEVICES): Record<string, unknown> {
  return {
    gateway: { id, data_dir: dataDir },
    uplink: {
      url: `mqtt://127.0.0.1:${port}`,
      protocol_version: 5,
      keepalive: '5s',
      connect_timeout: '3s',
      ack_timeout: '5s',
      reconnect: { min: '200ms', max: '2s' },
      batch: { max_readings: 50, max_delay: '100ms' },
      // CHAOS_ENCODING=compact runs the same faults with compact data messages.
      ...(process.env.CHAOS_ENCODING ? { encoding: process.env.CHAOS_ENCODING } : {}),
    },
    buffer: { commit_interval: '50ms', max_age: '1d' },
    health: { interval: '1s', http: false },
    devices,
  };
}

export function drainConfig(id: string, dataDir: string, port: number): Record<string, unknown> {
  return chaosConfig(id, dataDir, port, DEVICES.map((d) => ({ ...d, enabled: false })));
}

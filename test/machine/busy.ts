/**
 * What the io test's busy train needs (docs/machine.md, "The io test"): an uplink that
 * cannot deliver for a while, and the evidence of what it delivered afterwards and when.
 *
 * - `brokerPid`: the process of the test's own TLS Mosquitto (the one `startSite` started,
 *   a child of this process, found by its config file), to stop with SIGSTOP and resume
 *   with SIGCONT. A stopped broker keeps its port and its connections: the kernel still
 *   accepts TCP and buffers what the gateway sends, nothing answers — a link that holds
 *   and delivers nothing. Never the machine's own Mosquitto.
 * - `DataTap`: a second persistent QoS 1 subscriber on the gateway's data topics that
 *   notes, per data message, when it reached the host, whether it was marked
 *   `"replay": true` (the backlog lane, src/uplink/lanes.ts), how many readings it held and
 *   their oldest `ts`. The Collector accounts seqs; this one times arrivals.
 * - `guestClockOffset`: the guest's wall clock minus the host's, to put the guest's times
 *   (pulse edges, readings' `ts`) on the host's clock.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { MqttClient } from 'mqtt';
import { closeClient, persistentSubscriber, type Mosquitto } from '../helpers/mosquitto.js';
import type { Vm } from './vm.js';

/** The pid of `broker`'s process: a child of this process whose command line names its config file. */
export function brokerPid(broker: Mosquitto): number {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const argv = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
      if (!argv.includes(broker.confFile)) continue;
      const ppid = Number(/^PPid:\s+(\d+)$/m.exec(readFileSync(`/proc/${d}/status`, 'utf8'))?.[1]);
      if (ppid === process.pid) return Number(d);
    } catch {
      // gone meanwhile
    }
  }
  throw new Error(`no mosquitto process with ${broker.confFile} among this process's children`);
}

export interface Arrival {
  /** Host time the message arrived. */
  at: number;
  device: string;
  replay: boolean;
  readings: number;
  /** The oldest and newest reading `ts` in it (the guest's clock). */
  minTs: number;
  maxTs: number;
}

export class DataTap {
  readonly arrivals: Arrival[] = [];
  private client: MqttClient | undefined;

  constructor(private readonly root: string) {}

  async start(url: string, tls: { ca: string; cert: string; key: string }): Promise<void> {
    this.client = await persistentSubscriber(url, {
      clientId: 'machine-test-data-tap',
      protocolVersion: 4,
      topics: [`${this.root}/data/#`],
      tls,
      onMessage: (topic, payload) => {
        try {
          const body = JSON.parse(payload.toString()) as { replay?: boolean; readings?: { ts: number }[] };
          const ts = (body.readings ?? []).map((r) => r.ts);
          this.arrivals.push({ at: Date.now(), device: topic.slice(`${this.root}/data/`.length), replay: body.replay === true, readings: ts.length, minTs: Math.min(...ts), maxTs: Math.max(...ts) });
        } catch {
          // not JSON: not a data message of this gateway
        }
      },
    });
  }

  async stop(): Promise<void> {
    await closeClient(this.client);
  }
}

/** The guest's wall clock minus the host's (ms), and how far off that can be (half the round trip). */
export async function guestClockOffset(vm: Vm): Promise<{ offsetMs: number; errMs: number }> {
  let best = { offsetMs: 0, errMs: Infinity };
  for (let i = 0; i < 3; i++) {
    const t0 = Date.now();
    const guest = Number((await vm.run('date +%s%3N')).trim());
    const t1 = Date.now();
    const errMs = (t1 - t0) / 2;
    if (errMs < best.errMs) best = { offsetMs: Math.round(guest - (t0 + t1) / 2), errMs: Math.round(errMs) };
  }
  return best;
}

/**
 * The fleet exporter at 10,000 gateways (× scale): the retained `status` and `health`
 * of every one on the bench broker (Mosquitto when installed), then, each in its own
 * process, a bare mqtt.js subscriber receiving the same retained messages (the raw
 * baseline) and the real exporter (FleetCollector + /metrics) run with the service's
 * heap flags, as the `citygate` command on a gateway runs it. Rows: time to hold every
 * retained message, RSS and heap against the raw subscriber, and the /metrics scrape time.
 */
import mqtt from 'mqtt';
import { SERVICE_NODE_FLAGS } from '../../src/runtime/node-flags.js';
import type { BenchRow, BenchSection } from '../types.js';
import { startBroker } from '../lib/broker.js';
import { buildForChildren, runWorker } from '../lib/child.js';
import type { FleetResult } from '../workers/fleet.js';
import { fleetMember, gwId } from '../../test/helpers/fleet.js';

async function publish(url: string, n: number): Promise<void> {
  const c = await mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0 });
  const now = Date.now();
  try {
    for (let from = 0; from < n; from += 1000) {
      const sends: Promise<unknown>[] = [];
      for (let i = from; i < Math.min(n, from + 1000); i++) {
        const m = fleetMember(i, now);
        sends.push(c.publishAsync(`citygate/${gwId(i)}/status`, JSON.stringify(m.status), { qos: 1, retain: true }));
        sends.push(c.publishAsync(`citygate/${gwId(i)}/health`, JSON.stringify(m.health), { qos: 1, retain: true }));
      }
      await Promise.all(sends);
    }
  } finally {
    await c.endAsync();
  }
}

const section: BenchSection = {
  name: 'fleet exporter',
  async run(ctx) {
    const n = Math.max(500, Math.round(10_000 * ctx.scale));
    const build = buildForChildren(ctx.tmpDir);
    const broker = await startBroker(ctx.tmpDir, ctx.log);
    const rows: BenchRow[] = [];
    try {
      ctx.log(`publishing ${n} gateways' retained status and health to ${broker.label}`);
      await publish(broker.url, n);
      const args = { url: broker.url, n, scrapes: 20 };
      const raw = await runWorker<FleetResult>({ worker: 'fleet', build, timeoutMs: 180_000, args: { ...args, mode: 'raw' } });
      ctx.log(`raw: ${JSON.stringify(raw)}`);
      const ex = await runWorker<FleetResult>({ worker: 'fleet', build, timeoutMs: 180_000, nodeFlags: SERVICE_NODE_FLAGS, args: { ...args, mode: 'exporter' } });
      ctx.log(`exporter: ${JSON.stringify(ex)}`);
      const note = (r: FleetResult): string => (r.complete ? `${n} gateways, ${2 * n} retained messages` : `INCOMPLETE: not every retained message arrived within 120 s`);
      rows.push(
        { name: `fleet: retained view complete, ${n} gateways`, value: ex.receiveMs, unit: 'ms', baseline: raw.receiveMs, ratio: ex.receiveMs / raw.receiveMs, note: note(ex) },
        { name: `fleet: exporter RSS, ${n} gateways`, value: ex.rssMiB, unit: 'MiB', baseline: raw.rssMiB, ratio: ex.rssMiB / raw.rssMiB, note: `service heap flags (${SERVICE_NODE_FLAGS.join(' ')}); raw: mqtt.js keeping the latest payload per topic` },
        { name: `fleet: exporter heap used, ${n} gateways`, value: ex.heapMiB, unit: 'MiB', baseline: raw.heapMiB, ratio: ex.heapMiB / raw.heapMiB },
        { name: `fleet: /metrics scrape p50, ${n} gateways`, value: ex.scrapeP50Ms ?? Number.NaN, unit: 'ms', note: `max ${ex.scrapeMaxMs} ms over ${args.scrapes} scrapes; ${Math.round((ex.scrapeBytes ?? 0) / 1024)} KiB of text` },
      );
    } finally {
      await broker.stop();
    }
    return rows;
  },
};

export default section;

/**
 * Sparkplug under faults: a gateway child process (`citygate run`, dialect sparkplug) through a
 * broker restart and a kill -9, watched by the test host application (it checks the spec's
 * statements on every message; after its own reconnect it asks for a rebirth, as hosts do).
 * The host's view must stay consistent: a birth before any data after every reconnect, the
 * will's NDEATH with the bdSeq of the NBIRTH it ends, the next life born with the next bdSeq,
 * and every reading committed after the kill arrives (store and forward across kill -9).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedBroker } from '../../../src/demo/embedded-broker.js';
import { ChildGateway } from '../../helpers/child-gateway.js';
import { tempDir } from '../../helpers/gateway-config.js';
import { until } from '../../helpers/commander.js';
import { SparkplugHost } from '../../helpers/sparkplug-host.js';

const GROUP = 'chaos';
const NODE = 'sp-chaos';

describe('Sparkplug edge node through a broker restart and kill -9', () => {
  let broker: EmbeddedBroker | undefined;
  let child: ChildGateway | undefined;
  let host: SparkplugHost | undefined;
  afterEach(async () => {
    await child?.kill('SIGKILL');
    await host?.close();
    await broker?.stop();
  });

  it('leaves the host with a consistent view', async () => {
    broker = new EmbeddedBroker();
    const port = await broker.start();
    const h = (host = await SparkplugHost.connect(broker.url, GROUP, 'chaos-host'));
    const dir = tempDir();
    child = new ChildGateway(dir, {
      gateway: { id: NODE, data_dir: dir },
      uplink: {
        url: broker.url,
        protocol_version: 4,
        reconnect: { min: '100ms', max: '1s', probe: '1s' },
        batch: { max_readings: 20, max_delay: '50ms' },
        dialect: 'sparkplug',
        sparkplug: { group_id: GROUP },
      },
      buffer: { commit_interval: '20ms' },
      health: { http: false, interval: '1s' },
      devices: [{ id: 'street', driver: 'sim', poll: '10ms', points: [{ name: 'p', wave: 'counter', replicas: 3 }] }],
    });
    child.start();
    await until(() => h.readings(NODE, 'street').length > 50, 20_000, 'data');

    // 1. The broker restarts: both sides reconnect; the node is born again before its data.
    const birthsBefore = h.of('NBIRTH', NODE).length;
    await broker.stop();
    await new Promise((r) => setTimeout(r, 300));
    broker = new EmbeddedBroker('127.0.0.1', port);
    await broker.start();
    await until(() => h.of('NBIRTH', NODE).length > birthsBefore, 20_000, 'a birth after the broker restart');
    const afterRestart = h.readings(NODE, 'street').length;
    await until(() => h.readings(NODE, 'street').length > afterRestart + 50, 20_000, 'data after the broker restart');

    // 2. kill -9: the broker's will tells the host, with the bdSeq of the NBIRTH it ends.
    const lastBirth = h.of('NBIRTH', NODE).at(-1);
    const deathsBefore = h.of('NDEATH', NODE).length;
    expect(await child.kill('SIGKILL')).toBe('SIGKILL');
    await until(() => h.of('NDEATH', NODE).length > deathsBefore, 10_000, 'the will after kill -9');
    expect(h.of('NDEATH', NODE).at(-1)?.bdSeq).toBe(lastBirth?.bdSeq);
    expect(h.nodes.get(NODE)?.born).toBe(false);
    const seenBeforeKill = Math.max(...h.readings(NODE, 'street').map((r) => r.seq));

    // 3. The next life: born with the next bdSeq (kept in data_dir), then the readings.
    child.start();
    await until(() => h.of('NBIRTH', NODE).length > birthsBefore + 1, 20_000, 'birth after the restart');
    expect(h.of('NBIRTH', NODE).at(-1)?.bdSeq).toBe(((lastBirth?.bdSeq ?? 0) + 1) % 256);
    await until(() => Math.max(...h.readings(NODE, 'street').map((r) => r.seq)) > seenBeforeKill + 200, 20_000, 'data after the restart');
    expect(await child.kill('SIGTERM')).toBe(0);
    await until(() => h.of('NDEATH', NODE).length > deathsBefore + 1, 10_000, 'NDEATH on the clean stop');

    expect(h.violations).toEqual([]);
    // Nothing committed after what the host had seen before the kill is missing.
    const seqs = new Set(h.readings(NODE, 'street').map((r) => r.seq));
    const top = Math.max(...seqs);
    const missing: number[] = [];
    for (let s = seenBeforeKill + 1; s <= top; s++) if (!seqs.has(s)) missing.push(s);
    expect(missing, child.output.slice(-2000)).toEqual([]);
    // The readings re-sent after the kill were store-and-forward: historical.
    expect(h.readings(NODE, 'street').some((r) => r.historical)).toBe(true);
  });
});

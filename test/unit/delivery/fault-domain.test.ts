/**
 * One misbehaving driver never takes the gateway down: a driver that throws from its
 * own timer is restarted alone while its neighbours keep delivering.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedBroker } from '../../../src/demo/embedded-broker.js';
import { ChildGateway } from '../../helpers/child-gateway.js';
import { SeqCollector } from '../../helpers/seq-collector.js';
import { tempDir } from '../../helpers/gateway-config.js';

describe('fault domains', () => {
  let broker: EmbeddedBroker | undefined;
  let child: ChildGateway | undefined;
  afterEach(async () => {
    await child?.kill('SIGKILL');
    await broker?.stop();
  });

  it('a driver throwing from a timer is restarted; the process and the other devices carry on', async () => {
    broker = new EmbeddedBroker();
    await broker.start();
    const seen = new SeqCollector('citygate/fault-gw');
    broker.onPublish((m) => seen.add(m.topic, m.payload));
    const dir = tempDir();
    child = new ChildGateway(dir, {
      gateway: { id: 'fault-gw', data_dir: dir },
      uplink: { url: broker.url, protocol_version: 4, batch: { max_readings: 10, max_delay: '50ms' } },
      health: { http: false },
      devices: [
        { id: 'crashy', driver: 'sim', poll: '50ms', crash_after: '300ms', points: [{ name: 'x' }] },
        { id: 'steady', driver: 'sim', poll: '50ms', points: [{ name: 'y' }] },
      ],
    });
    child.start();
    await seen.waitFor(() => (seen.byDevice.get('steady')?.length ?? 0) > 20, 20_000, 'steady readings');
    const crashyBefore = seen.byDevice.get('crashy')?.length ?? 0;
    const steadyBefore = seen.byDevice.get('steady')?.length ?? 0;
    // The supervisor restarts crashy after 1 s, 2 s, … : it keeps producing in bursts.
    await seen.waitFor(() => (seen.byDevice.get('crashy')?.length ?? 0) > crashyBefore + 3, 15_000, 'crashy to come back');
    await seen.waitFor(() => (seen.byDevice.get('steady')?.length ?? 0) > steadyBefore + 40, 15_000, 'steady to carry on');
    expect(child.output).toMatch(/device crashy: uncaught exception in its driver: simulated crash/);
    expect(await child.kill('SIGTERM')).toBe(0); // still alive, stops cleanly
    expect(seen.missing(1, seen.max), child.output).toEqual([]);
  }, 60_000);
});

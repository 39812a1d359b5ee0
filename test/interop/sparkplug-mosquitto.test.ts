/**
 * The Sparkplug B edge node against a real Mosquitto, MQTT 5 and 3.1.1, with a small
 * Receive Maximum: births of several devices, data, a rebirth and a clean stop, checked by
 * the test host application (test/helpers/sparkplug-host.ts) on every message.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Gateway } from '../../src/runtime/gateway.js';
import { simDevice, testConfig } from '../helpers/gateway-config.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { until } from '../helpers/commander.js';
import { SparkplugHost } from '../helpers/sparkplug-host.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup.length = 0;
});

const NODE = 'sp-mosq';
const DEVICES = Array.from({ length: 24 }, (_, i) => `d${i + 1}`);

for (const protocolVersion of [5, 4] as const) {
  describe(`Sparkplug edge node on Mosquitto, MQTT ${protocolVersion === 5 ? '5' : '3.1.1'}`, () => {
    // 24 devices: NBIRTH and 24 DBIRTHs (QoS 1) go out at once, beyond the Receive Maximum.
    it('births of 24 devices, data, rebirth and NDEATH pass the host checks with Receive Maximum 10', async () => {
      const broker = new Mosquitto({ maxInflightMessages: 10 });
      await broker.start();
      cleanup.push(() => broker.stop());
      const h = await SparkplugHost.connect(broker.url, 'G', 'mosq-host');
      cleanup.push(() => h.close());
      const gw = new Gateway(
        testConfig({
          url: broker.url,
          id: NODE,
          protocolVersion,
          devices: DEVICES.map((d) => simDevice(d, '20ms', 2)),
          uplink: { dialect: 'sparkplug', sparkplug: { group_id: 'G' } },
        }),
      );
      cleanup.push(() => gw.stop().catch(() => undefined));
      await gw.start();
      await until(() => DEVICES.every((d) => h.readings(NODE, d).length > 10), 20_000, 'data of every device');
      await h.rebirth(NODE);
      await until(() => h.of('NBIRTH', NODE).length === 2, 10_000, 'rebirth');
      const after = h.messages.length;
      await until(() => DEVICES.every((d) => h.messages.slice(after).some((m) => m.type === 'DDATA' && m.device === d)), 10_000, 'data after the rebirth');
      expect(gw.uplink.stats().reconnects).toBe(0); // the broker never had to cut us off
      await gw.stop();
      await until(() => h.of('NDEATH', NODE).length === 1, 5000, 'NDEATH');
      expect(h.of('NDEATH', NODE)[0]?.bdSeq).toBe(h.of('NBIRTH', NODE)[0]?.bdSeq);
      expect(h.violations).toEqual([]);
    });
  });
}

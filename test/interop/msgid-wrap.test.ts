/**
 * docs/field-notes.md#message-id-wrap: with mqtt.js's default id provider, more than 65,535 QoS 1 publishes
 * queued while offline silently drop the excess. citygate never queues inside mqtt.js:
 * a 70,000-message backlog (one reading per message) goes through one connection to a
 * real Mosquitto and every message arrives.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { MqttUplink } from '../../src/uplink/mqtt-uplink.js';
import { Topics } from '../../src/uplink/topics.js';
import { SqliteBuffer } from '../../src/buffer/sqlite-buffer.js';
import { systemClock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/core/log.js';
import { Mosquitto, closeClient, persistentSubscriber } from '../helpers/mosquitto.js';
import { SeqCollector } from '../helpers/seq-collector.js';
import { tempDir, testConfig } from '../helpers/gateway-config.js';

describe('message-id wrap (mqtt.js)', () => {
  let broker: Mosquitto | undefined;
  let sub: MqttClient | undefined;
  let buffer: SqliteBuffer | undefined;
  let uplink: MqttUplink | undefined;
  afterEach(async () => {
    await uplink?.stop(0);
    buffer?.close();
    await closeClient(sub);
    await broker?.stop();
  });

  for (const protocolVersion of [4, 5] as const) {
    it(`MQTT ${protocolVersion === 5 ? '5' : '3.1.1'}: 70,000 messages on one connection, none lost`, async () => {
      broker = new Mosquitto();
      await broker.start();
      const topics = Topics.forGateway('wrap-gw');
      const seen = new SeqCollector(topics.root);
      sub = await persistentSubscriber(broker.url, { clientId: `wrap-sub-${protocolVersion}`, protocolVersion, topics: [`${topics.root}/data/#`], onMessage: (t, p) => seen.add(t, p) });
      const config = testConfig({ url: broker.url, id: 'wrap-gw', protocolVersion, uplink: { batch: { max_readings: 1, max_delay: '1ms' }, inflight: 100 } });
      buffer = new SqliteBuffer({ dataDir: tempDir(), maxBytes: 1 << 30, maxAgeMs: 86_400_000, onFull: 'drop_oldest', synchronous: 'normal', maxReadingsPerRow: 1, clock: systemClock });
      for (let k = 0; k < 70; k++) {
        buffer.commit(Array.from({ length: 1000 }, (_, i) => ({ device: 'd', point: 'p', value: k * 1000 + i, ts: 1_700_000_000_000, quality: 'good' as const })));
      }
      uplink = new MqttUplink({ config: config.uplink, gatewayId: 'wrap-gw', topics, buffer, clock: systemClock, log: silentLogger(), version: 't', startedAt: 0 });
      uplink.start();
      await seen.waitFor(() => seen.unique.size >= 70_000 && uplink!.stats().ackedReadings >= 70_000, 110_000, '70,000 messages delivered and acknowledged');
      expect(seen.missing(1, 70_000)).toEqual([]);
      expect(uplink.stats().reconnects).toBe(0);
      expect(uplink.stats().ackedReadings).toBe(70_000);
    }, 120_000);
  }
});

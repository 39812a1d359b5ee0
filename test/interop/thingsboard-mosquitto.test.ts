/**
 * The ThingsBoard dialect through a real Mosquitto, over MQTT 3.1.1 (what ThingsBoard's
 * transport speaks) and 5: a whole gateway seen by a client written from ThingsBoard's
 * gateway API documentation (test/helpers/thingsboard-client.ts). The gateway signs in
 * with its access token as the MQTT user name, as ThingsBoard expects: the broker's ACL
 * lets only that user name publish gateway topics, so a gateway that signed in any other
 * way would have nothing seen and the scenario would fail.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Mosquitto } from '../helpers/mosquitto.js';
import { tempDir } from '../helpers/gateway-config.js';
import { thingsboardScenario, type Cleanup } from '../helpers/thingsboard-scenario.js';

const cleanup: Cleanup = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup.length = 0;
});

const TOKEN = 'A1_TEST_TOKEN_tb-gw';

function acl(): string {
  const file = join(tempDir('cg-tb-acl-'), 'acl');
  writeFileSync(
    file,
    [
      '# the gateway device, by its access token: the gateway API and its own device API',
      `user ${TOKEN}`,
      'topic readwrite v1/gateway/#',
      'topic readwrite v1/devices/me/#',
      '# the platform side of the test',
      'user platform',
      'topic readwrite v1/#',
      '',
    ].join('\n'),
  );
  return file;
}

for (const protocolVersion of [4, 5] as const) {
  describe(`ThingsBoard dialect on Mosquitto, MQTT ${protocolVersion === 5 ? '5' : '3.1.1'}`, () => {
    it('connect before telemetry, telemetry with ts and seq, RPC answered or refused, disconnect when a device goes down', async () => {
      // A small Receive Maximum (MQTT 5) and a dozen devices connected at link up beside the
      // data window: connects and attributes go QoS 0, outside it. (On loopback PUBACKs come
      // back fast, so this run alone would not catch a breach; it checks nothing was logged.)
      const broker = new Mosquitto({ extra: [`acl_file ${acl()}`], maxInflightMessages: 10 });
      await broker.start();
      cleanup.push(() => broker.stop());
      await thingsboardScenario(broker.url, protocolVersion, cleanup, {
        uplink: { thingsboard: { device_name: '{gateway}.{device}', access_token: TOKEN } },
        platform: { username: 'platform' },
        moreDevices: 10,
      });
      expect(broker.log()).not.toMatch(/exceeded|protocol error/i);
    });
  });
}

/**
 * Downlink commands against a real Mosquitto, over MQTT 5 (response topic and
 * correlation data) and MQTT 3.1.1 (`cmd/<name>/reply` with the request id). The
 * broker runs with an ACL file like the one docs/operations.md gives, so this also
 * proves that example lets a gateway subscribe to its own `cmd/` and answer.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Gateway } from '../../src/runtime/gateway.js';
import mqtt from 'mqtt';
import { simDevice, tempDir, testConfig } from '../helpers/gateway-config.js';
import { Mosquitto, closeClient } from '../helpers/mosquitto.js';
import { startWithOperator, until } from '../helpers/commander.js';
import { documentedAcl } from '../helpers/broker-acl.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup.length = 0;
});

for (const protocolVersion of [5, 4] as const) {
  describe(`downlink commands on Mosquitto, MQTT ${protocolVersion === 5 ? '5' : '3.1.1'}`, () => {
    it('answers ping and restart_device where the requester asked, refuses what is not allowed', async () => {
      const acl = join(tempDir('cg-acl-'), 'acl');
      writeFileSync(acl, documentedAcl());
      const broker = new Mosquitto({ users: { 'cmd-gw': 'gw-secret', 'other-gw': 'x', operator: 'op-secret' }, extra: [`acl_file ${acl}`] });
      await broker.start();
      cleanup.push(() => broker.stop());

      const config = testConfig({
        url: broker.url,
        id: 'cmd-gw',
        protocolVersion,
        devices: [simDevice('sim-1', '100ms', 1)],
        uplink: { username: 'cmd-gw', password: 'gw-secret' },
        extra: { commands: { allow: ['ping', 'restart_device'] } },
      });
      const gw = new Gateway(config);
      const op = await startWithOperator(gw, broker.url, protocolVersion, cleanup, { username: 'operator', password: 'op-secret' });

      const ping = await op.request('ping', { id: 'p-1' });
      expect(ping).toMatchObject({ id: 'p-1', command: 'ping', ok: true, result: { pong: true } });
      const where = op.replies.find((r) => r.reply.id === 'p-1');
      if (protocolVersion === 5) {
        // On the requester's response topic, with its correlation data.
        expect(where?.topic).toBe(`${gw.topics.root}/cmd/_/reply/operator`);
        expect(where?.correlation).toBe('p-1');
      } else {
        expect(where?.topic).toBe(`${gw.topics.root}/cmd/ping/reply`);
      }
      expect(await op.request('restart_device', { id: 'rd-1', args: { device: 'sim-1' } })).toMatchObject({ ok: true });
      expect(await op.request('gpio_set', { id: 'g-1', args: { device: 'sim-1', value: 1 } })).toMatchObject({ ok: false, error: expect.stringMatching(/not allowed/) });
      await until(() => op.events.some((e) => e.id === 'g-1'), 10_000, 'command events');

      // The same ACL keeps this gateway's credentials out of another gateway's topics.
      const rogue = await mqtt.connectAsync(broker.url, { protocolVersion, username: 'cmd-gw', password: 'gw-secret', reconnectPeriod: 0 });
      cleanup.push(() => closeClient(rogue));
      const rogueGot: string[] = [];
      rogue.on('message', (t) => rogueGot.push(t));
      // Mosquitto grants the subscription but never delivers what the ACL does not let it read.
      await rogue.subscribeAsync(['citygate/other-gw/cmd/+', 'citygate/cmd-gw/events'], { qos: 1 });
      const seen: string[] = [];
      op.client.on('message', (t) => seen.push(t));
      await op.client.subscribeAsync('citygate/other-gw/#', { qos: 1 });
      const forged = rogue.publishAsync('citygate/other-gw/status', '{"state":"online"}', { qos: 1 });
      // MQTT 5 says so in the PUBACK; 3.1.1 has no way to, and the broker drops it silently.
      if (protocolVersion === 5) await expect(forged).rejects.toThrow(/Not authorized/);
      else await forged;
      await op.client.publishAsync('citygate/other-gw/cmd/ping', '{"id":"x"}', { qos: 1 });
      await op.request('restart_device', { id: 'rd-after', args: { device: 'sim-1' } }); // emits an event on citygate/cmd-gw/events
      await until(() => op.events.some((e) => e.id === 'rd-after'), 10_000, 'the barrier event');
      expect(rogueGot).toEqual([]);
      expect(seen.filter((t) => t.startsWith('citygate/other-gw/'))).toEqual(['citygate/other-gw/cmd/ping']); // the operator's own; the rogue status never arrived
    });
  });
}

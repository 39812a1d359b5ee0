/**
 * The ThingsBoard dialect end to end on the in-process aedes broker: a whole gateway (sim
 * and Modbus TCP devices, commands allowed and refused) seen by a client written from
 * ThingsBoard's gateway API documentation (test/helpers/thingsboard-client.ts). The same
 * scenario runs through a real Mosquitto in test/interop/thingsboard-mosquitto.test.ts.
 */
import { afterEach, describe, it } from 'vitest';
import { EmbeddedBroker } from '../../../../src/demo/embedded-broker.js';
import { thingsboardScenario, type Cleanup } from '../../../helpers/thingsboard-scenario.js';

const cleanup: Cleanup = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup.length = 0;
});

describe('ThingsBoard dialect over MQTT 3.1.1 (aedes)', () => {
  it('connect before telemetry, telemetry with ts and seq, RPC answered or refused, disconnect when a device goes down', async () => {
    const broker = new EmbeddedBroker();
    await broker.start();
    cleanup.push(() => broker.stop());
    await thingsboardScenario(broker.url, 4, cleanup);
  });
});

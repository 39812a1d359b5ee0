/**
 * The fleet view tells what it knows and what it does not (aedes, in process):
 * - the exporter's own broker link is a metric, and while it is down every gateway is
 *   `stale` and `citygate_gateway_up` is left out (not 0: an alert must not fire for 20
 *   gateways because the watcher lost its broker);
 * - an expected gateway never seen is `missing` (up 0), a retained status cleared live
 *   or not resent after a reconnect is `vanished` (up 0), and both stay in the view;
 * - a gateway publishes its health as soon as its link is up, at every reconnect, not
 *   only at its next interval.
 */
import { afterEach, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { EmbeddedBroker } from '../../../src/demo/embedded-broker.js';
import { FleetCollector } from '../../../src/fleet/collector.js';
import { renderFleetMetrics } from '../../../src/fleet/prometheus.js';
import { fleetTable } from '../../../src/fleet/table.js';
import { Gateway } from '../../../src/runtime/gateway.js';
import { gwId, publishFleet } from '../../helpers/fleet.js';
import { until } from '../../helpers/commander.js';
import { simDevice, testConfig } from '../../helpers/gateway-config.js';

const cleanup: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup.length = 0;
});

const N = 20;
const metrics = (c: FleetCollector): string => renderFleetMetrics(c.rows(), { brokerUp: c.brokerUp, brokerDownS: c.downForS(), malformed: c.malformed });

describe('fleet view: link, missing and vanished gateways', () => {
  it('reports its own link; stale while down; missing and vanished gateways stay visible', async () => {
    const broker = new EmbeddedBroker();
    await broker.start();
    cleanup.push(() => broker.stop());
    await publishFleet(broker.url, N);
    const expected = [...Array.from({ length: N }, (_, i) => gwId(i)), 'gw-999'];
    const c = new FleetCollector({ url: broker.url, root: 'citygate', expected, confirmMs: 1500 });
    await c.start();
    cleanup.push(() => c.stop());
    await until(() => c.changes >= 2 * N, 10_000, 'all retained messages');

    let text = metrics(c);
    expect(text).toMatch(/^citygate_fleet_broker_up 1$/m);
    expect(text).toMatch(/^citygate_fleet_gateways\{state="missing"\} 1$/m);
    expect(text).toContain('citygate_gateway_state{gateway="gw-999",state="missing"} 1');
    expect(text).toContain('citygate_gateway_up{gateway="gw-999"} 0');
    expect(text).toMatch(/^citygate_fleet_gateways\{state="online"\} 19$/m);
    expect(text).toMatch(/^citygate_fleet_gateways\{state="offline"\} 1$/m); // gw-007 (its last will)

    // A retained status cleared live (decommissioned, or the store wiped): vanished, still listed.
    const op = await mqtt.connectAsync(broker.url, { protocolVersion: 4, reconnectPeriod: 0 });
    await op.publishAsync(`citygate/${gwId(3)}/status`, '', { qos: 1, retain: true });
    await op.endAsync();
    await until(() => c.rows().some((r) => r.gateway === gwId(3) && r.state === 'vanished'), 5000, 'gw-003 vanished');
    text = metrics(c);
    expect(text).toContain(`citygate_gateway_up{gateway="${gwId(3)}"} 0`);
    expect(text).toContain(`citygate_gateway_state{gateway="${gwId(3)}",state="vanished"} 1`);

    // The exporter loses its broker: nothing is known now — stale, no gateway_up at all.
    await broker.stop();
    await until(() => !c.brokerUp, 10_000, 'the exporter to notice');
    text = metrics(c);
    expect(text).toMatch(/^citygate_fleet_broker_up 0$/m);
    expect(text).not.toMatch(/^citygate_gateway_up\{/m);
    expect(text).toMatch(/^citygate_fleet_gateways\{state="stale"\} 21$/m);
    expect(text).toMatch(/^citygate_fleet_gateways\{state="offline"\} 0$/m);
    expect(c.rows().find((r) => r.gateway === gwId(1))).toMatchObject({ state: 'stale', last_state: 'online' });
    expect(fleetTable(c.rows())).toMatch(/^NOT CONNECTED to the broker/);

    // A new broker (its store empty) where only half the fleet has published again: the
    // other half is vanished once the resend window passes; nothing is "offline".
    await broker.start();
    await publishFleet(broker.url, N / 2);
    await until(() => c.brokerUp, 15_000, 'the exporter to reconnect');
    await until(() => c.rows().filter((r) => r.state === 'vanished').length === N / 2, 10_000, 'the rest vanished');
    const rows = c.rows();
    // gw-000…gw-009 are back (gw-003 too: its status was published again; gw-007 offline).
    expect(rows.filter((r) => r.state === 'online' || r.state === 'offline').map((r) => r.gateway).sort()).toEqual(Array.from({ length: N / 2 }, (_, i) => gwId(i)));
    expect(rows.filter((r) => r.state === 'vanished').map((r) => r.gateway).sort()).toEqual(Array.from({ length: N / 2 }, (_, i) => gwId(i + N / 2)));
    expect(rows.find((r) => r.gateway === 'gw-999')?.state).toBe('missing');
    expect(metrics(c)).toMatch(/^citygate_fleet_broker_up 1$/m);
  }, 60_000);
});

describe('health on (re)connect', () => {
  it('a gateway publishes its retained health when its link comes up, and again after a reconnect', async () => {
    const broker = new EmbeddedBroker();
    await broker.start();
    cleanup.push(() => broker.stop());
    const gw = new Gateway(testConfig({ url: broker.url, id: 'hc-gw', devices: [simDevice('sim-1', '200ms', 1)], health: { interval: '1h' } }));
    const healths: number[] = [];
    broker.onPublish((m) => {
      if (m.topic === gw.topics.health && m.payload.length > 0) healths.push(Date.now());
    });
    await gw.start();
    cleanup.push(() => gw.stop());
    await until(() => healths.length >= 1, 10_000, 'health at connect (the interval is 1 h)');
    const before = healths.length;
    await broker.stop();
    await until(() => gw.uplink.stats().state !== 'online', 10_000, 'the gateway to see the broker gone');
    await broker.start();
    await until(() => gw.uplink.stats().state === 'online', 15_000, 'the gateway to reconnect');
    await until(() => healths.length > before, 5000, 'health after the reconnect');
  }, 40_000);
});

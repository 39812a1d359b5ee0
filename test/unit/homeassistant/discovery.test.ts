/**
 * Home Assistant discovery on a broker (aedes): off by default; when on, every point is
 * announced as a sensor (unit, device class, state class, availability from `status`),
 * its value follows on the state topic, and a point removed by a config change is
 * cleared from HA.
 */
import { afterEach, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { EmbeddedBroker } from '../../../src/demo/embedded-broker.js';
import { Gateway } from '../../../src/runtime/gateway.js';
import { sensorClass } from '../../../src/homeassistant/classes.js';
import { diffConfig } from '../../../src/control/diff.js';
import { testConfig } from '../../helpers/gateway-config.js';
import { until } from '../../helpers/commander.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup.length = 0;
});

const weather = {
  id: 'weather',
  driver: 'sim',
  poll: '100ms',
  points: [
    { name: 'temperature', wave: 'sine', min: 10, max: 20, period: '10s', unit: 'degC' },
    { name: 'humidity', wave: 'sine', min: 40, max: 60, period: '10s', unit: '%' },
    { name: 'energy', wave: 'counter', unit: 'kWh' },
  ],
};

async function run(homeassistant: Record<string, unknown> | undefined) {
  const broker = new EmbeddedBroker();
  await broker.start();
  cleanup.push(() => broker.stop());
  const got = new Map<string, string>();
  const sub = await mqtt.connectAsync(broker.url, { protocolVersion: 4, reconnectPeriod: 0 });
  cleanup.push(() => sub.endAsync(true));
  sub.on('message', (t, p) => got.set(t, p.toString()));
  await sub.subscribeAsync(['homeassistant/#', 'citygate/ha-gw/ha/#', 'citygate/ha-gw/status'], { qos: 1 });
  const config = testConfig({ url: broker.url, id: 'ha-gw', devices: [weather], ...(homeassistant ? { extra: { homeassistant } } : {}) });
  const gw = new Gateway(config);
  await gw.start();
  cleanup.push(() => gw.stop());
  return { gw, got };
}

describe('Home Assistant discovery', () => {
  it('is off by default', async () => {
    const { gw, got } = await run(undefined);
    await until(() => gw.uplink.stats().state === 'online' && got.has('citygate/ha-gw/status'), 10_000, 'online');
    await new Promise((r) => setTimeout(r, 2500)); // longer than one publisher check
    expect([...got.keys()].filter((t) => t.startsWith('homeassistant/') || t.includes('/ha/'))).toEqual([]);
  });

  it('announces points as sensors with units and classes, then their values; clears removed points', async () => {
    const { gw, got } = await run({ enabled: true, interval: '1s' });
    const topic = 'homeassistant/sensor/ha-gw/weather_temperature/config';
    await until(() => got.has(topic) && got.has('citygate/ha-gw/ha/weather/energy'), 15_000, 'discovery and states');
    expect(JSON.parse(got.get(topic)!)).toMatchObject({
      name: 'temperature',
      unique_id: 'citygate_ha-gw_weather_temperature',
      state_topic: 'citygate/ha-gw/ha/weather/temperature',
      unit_of_measurement: '°C',
      device_class: 'temperature',
      state_class: 'measurement',
      availability_topic: 'citygate/ha-gw/status',
      device: { identifiers: ['citygate_ha-gw_weather'], model: 'sim' },
    });
    expect(JSON.parse(got.get('homeassistant/sensor/ha-gw/weather_humidity/config')!)).toMatchObject({ device_class: 'humidity', unit_of_measurement: '%' });
    expect(JSON.parse(got.get('homeassistant/sensor/ha-gw/weather_energy/config')!)).toMatchObject({ device_class: 'energy', state_class: 'total_increasing' });
    const t = Number(got.get('citygate/ha-gw/ha/weather/temperature'));
    expect(t).toBeGreaterThanOrEqual(10);
    expect(t).toBeLessThanOrEqual(20);
    expect(JSON.parse(got.get('citygate/ha-gw/status')!)).toMatchObject({ state: 'online' });

    // A config change drops the humidity point: its discovery entry is cleared.
    const next = { ...gw.config, devices: [{ ...gw.config.devices[0], points: (gw.config.devices[0] as typeof weather).points.filter((p) => p.name !== 'humidity') }] } as typeof gw.config;
    await gw.applyConfig(next, diffConfig(gw.config, next));
    await until(() => got.get('homeassistant/sensor/ha-gw/weather_humidity/config') === '', 10_000, 'the cleared entry');
  });

  it('maps units to HA units and classes', () => {
    expect(sensorClass('v_l1', 'V')).toEqual({ unit: 'V', device_class: 'voltage', state_class: 'measurement' });
    expect(sensorClass('pm10', 'ug/m3')).toMatchObject({ device_class: 'pm10', unit: 'µg/m³' });
    expect(sensorClass('pm2_5', 'ug/m3')).toMatchObject({ device_class: 'pm25' });
    expect(sensorClass('level', 'm')).toEqual({ unit: 'm', state_class: 'measurement' });
    expect(sensorClass('state', undefined)).toEqual({});
  });
});

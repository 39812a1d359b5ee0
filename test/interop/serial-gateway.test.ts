/**
 * End to end: a PMS5003 and a GPS on socat pty pairs, the whole gateway (pipeline,
 * SQLite buffer, MQTT uplink) in process, an aedes broker on loopback (MQTT 3.1.1, so
 * protocol_version 4), and a subscriber on <topic_root>/data/<device>. Then the PM
 * sensor is unplugged (socat killed) and replugged: a device_state event says `down`
 * naming the port, then `ok`, and decoded values flow again, with no gateway restart.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { Gateway } from '../../src/runtime/gateway.js';
import { encodePms5003 } from '../../src/drivers/serial/protocols/pms5003.js';
import { encodeNmea } from '../../src/drivers/serial/protocols/nmea.js';
import { PtyPair } from '../helpers/socat.js';
import { freePort } from '../helpers/net.js';
import { testConfig } from '../helpers/gateway-config.js';
import { FakeSensor, until } from './serial-pty.js';

interface DataMsg {
  gateway: string;
  device: string;
  readings: { seq: number; ts: number; point: string; value: unknown; unit?: string; quality: string }[];
}

const PM = { pm1_0_cf1: 4, pm2_5_cf1: 7, pm10_cf1: 8, pm1_0: 4, pm2_5: 7, pm10: 8, particles_0_3um: 700, particles_0_5um: 200, particles_1_0um: 40, particles_2_5um: 3, particles_5_0um: 1, particles_10um: 0 };

describe('serial sensors through the gateway to an MQTT broker', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const f of cleanup.reverse()) await f();
    cleanup.length = 0;
  });

  it('a subscriber receives decoded PM and GPS values with units; unplug/replug without restart', async () => {
    const broker = await Aedes.createBroker();
    const server = net.createServer(broker.handle);
    const port = await freePort();
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
    cleanup.push(() => new Promise<void>((r) => broker.close(() => server.close(() => r()))));

    const pm = new PtyPair();
    const gps = new PtyPair();
    await pm.start();
    await gps.start();
    cleanup.push(() => pm.stop(), () => gps.stop());
    const pmSensor = new FakeSensor(pm.a);
    const gpsSensor = new FakeSensor(gps.a);
    pmSensor.open();
    gpsSensor.open();
    cleanup.push(() => pmSensor.close(), () => gpsSensor.close());

    const config = testConfig({
      url: `mqtt://127.0.0.1:${port}`,
      protocolVersion: 4,
      id: 'aq-test',
      uplink: { topic_root: 'city/air/aq-test' },
      devices: [
        { id: 'pm-1', driver: 'serial', port: pm.b, protocol: 'pms5003', reopen: { min: '100ms', max: '500ms' }, points: [{ name: 'pm2_5', valid_range: [0, 50] }] },
        { id: 'gps', driver: 'serial', port: gps.b, protocol: 'nmea', points: [{ name: 'speed', scale: 0.2777778, unit: 'm/s', precision: 2 }] },
      ],
    });

    const sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { protocolVersion: 4, reconnectPeriod: 0 });
    cleanup.push(() => sub.endAsync());
    const data: DataMsg[] = [];
    const events: { type: string; device?: string; to?: string; reason?: string }[] = [];
    sub.on('message', (topic, payload) => {
      if (topic.startsWith('city/air/aq-test/data/')) data.push(JSON.parse(payload.toString()) as DataMsg);
      if (topic === 'city/air/aq-test/events') events.push(JSON.parse(payload.toString()));
    });
    await sub.subscribeAsync(['city/air/aq-test/data/+', 'city/air/aq-test/events'], { qos: 1 });

    const gateway = new Gateway(config);
    await gateway.start();
    cleanup.push(() => gateway.stop());
    const pmDevice = gateway.devices.find((d) => d.id === 'pm-1');
    await until(() => (pmDevice?.health.snapshot().counters.opens ?? 0) >= 1, 5000, 'pm port open');

    const stopPm = pmSensor.stream(() => encodePms5003(PM), 100);
    cleanup.push(stopPm);
    gpsSensor.write(
      encodeNmea('GNGGA,101500.00,2812.34567,N,11256.78901,E,1,09,0.90,61.2,M,-15.3,M,,') +
        encodeNmea('GNRMC,101500.00,A,2812.34567,N,11256.78901,E,36.0,90.0,281126,,,A'),
    );

    const readings = (device: string) => data.filter((m) => m.device === device).flatMap((m) => m.readings);
    await until(() => readings('pm-1').some((r) => r.point === 'pm2_5') && readings('gps').some((r) => r.point === 'speed'), 15_000, 'data on the broker');

    const pm25 = readings('pm-1').find((r) => r.point === 'pm2_5');
    expect(pm25).toMatchObject({ value: 7, unit: 'µg/m3', quality: 'good' });
    expect(readings('pm-1').find((r) => r.point === 'particles_0_3um')).toMatchObject({ value: 700, unit: '1/0.1L' });
    expect(data.find((m) => m.device === 'pm-1')?.gateway).toBe('aq-test');
    const speed = readings('gps').find((r) => r.point === 'speed');
    expect(speed).toMatchObject({ value: 18.52, unit: 'm/s' }); // 36 kn = 66.672 km/h, × 0.2777778 by the pipeline
    expect(readings('gps').find((r) => r.point === 'latitude')?.value as number).toBeCloseTo(28.2057611667, 6);
    expect(readings('gps').find((r) => r.point === 'altitude')).toMatchObject({ value: 61.2, unit: 'm' });
    expect(readings('gps').some((r) => r.point === 'clock_offset_ms')).toBe(true);

    // Unplug the PM sensor: socat dies, the device goes down, the gateway keeps running.
    pmSensor.close();
    await pm.stop();
    await until(() => events.some((e) => e.type === 'device_state' && e.device === 'pm-1' && e.to === 'down'), 10_000, 'device_state down event');
    expect(events.find((e) => e.device === 'pm-1' && e.to === 'down')?.reason).toContain(pm.b);
    expect(pmDevice?.health.snapshot().state).toBe('down');

    // Replug: values with a new pm2_5 arrive; device_state back to ok.
    await pm.start();
    pmSensor.open();
    PM.pm2_5 = 23;
    await until(() => readings('pm-1').some((r) => r.point === 'pm2_5' && r.value === 23), 15_000, 'pm2_5=23 after replug');
    await until(() => events.some((e) => e.type === 'device_state' && e.device === 'pm-1' && e.to === 'ok'), 10_000, 'device_state ok event');
    expect(pmDevice?.health.snapshot().counters).toMatchObject({ opens: 2, port_lost: 1 });
    // The GPS device never noticed.
    expect(gateway.devices.find((d) => d.id === 'gps')?.health.snapshot().counters.port_lost).toBe(0);
  });
});

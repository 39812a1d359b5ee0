/**
 * Home Assistant MQTT discovery (off by default): each configured point becomes a
 * sensor, grouped under one HA device per citygate device, linked to the gateway.
 *
 * - Discovery: `<prefix>/sensor/<gateway>/<device>_<point>/config`, retained,
 *   published on every new connection (so HA restarts and broker wipes heal) and
 *   cleared (empty retained payload) for points removed by a config change.
 * - State: `<root>/ha/<device>/<point>`, the last value, retained, QoS 0, at most every
 *   `homeassistant.interval` and only when it changed. A view for dashboards: the
 *   data topics remain the delivery path with its at-least-once promise.
 * - Availability: the gateway's retained `status` (`{"state":"online"}`; the last will
 *   says offline).
 */
import type { HomeAssistantView } from './schema.js';
import { findDriver } from '../drivers/registry.js';
import type { PointView } from '../health/live.js';
import { Topics } from '../uplink/topics.js';
import { sensorClass } from './classes.js';

export interface Announcement {
  topic: string;
  payload: string;
}

interface PointDef {
  device: string;
  driver: string;
  point: string;
  unit?: string;
}

const slug = (s: string): string => s.replace(/[^A-Za-z0-9_-]/g, '_');

export function configuredPoints(config: HomeAssistantView): PointDef[] {
  const out: PointDef[] = [];
  for (const raw of config.devices as ({ id: string; driver: string; enabled?: boolean; points?: { name: string; unit?: string }[] } & Record<string, unknown>)[]) {
    if (raw.enabled === false) continue;
    const pts = findDriver(raw.driver)?.pointConfigs?.(raw) ?? raw.points ?? [];
    for (const p of pts) out.push({ device: raw.id, driver: raw.driver, point: p.name, ...(p.unit !== undefined ? { unit: p.unit } : {}) });
  }
  return out;
}

export function stateTopic(topics: Topics, device: string, point: string): string {
  return topics.haState(device, point);
}

export function discoveryTopic(prefix: string, gateway: string, device: string, point: string): string {
  return Topics.haDiscovery(prefix, slug(gateway), slug(`${device}_${point}`));
}

export function announcements(config: HomeAssistantView, topics: Topics, prefix: string): Announcement[] {
  const gw = config.gateway.id;
  return configuredPoints(config).map((p) => {
    const cls = sensorClass(p.point, p.unit);
    const payload: Record<string, unknown> = {
      name: p.point,
      unique_id: `citygate_${slug(gw)}_${slug(p.device)}_${slug(p.point)}`,
      state_topic: stateTopic(topics, p.device, p.point),
      availability_topic: topics.status,
      availability_template: "{{ 'online' if value_json.state == 'online' else 'offline' }}",
      device: {
        identifiers: [`citygate_${slug(gw)}_${slug(p.device)}`],
        name: `${gw} ${p.device}`,
        manufacturer: 'citygate',
        model: p.driver,
        via_device: `citygate_${slug(gw)}`,
      },
      origin: { name: 'citygate' },
    };
    if (cls.unit !== undefined) payload.unit_of_measurement = cls.unit;
    if (cls.device_class !== undefined) payload.device_class = cls.device_class;
    if (cls.state_class !== undefined) payload.state_class = cls.state_class;
    return { topic: discoveryTopic(prefix, gw, p.device, p.point), payload: JSON.stringify(payload) };
  });
}

/** The state payload of a point: the bare value, as HA reads it. */
export function statePayload(p: PointView): string {
  if (p.value === null) return 'None';
  return typeof p.value === 'boolean' ? (p.value ? 'ON' : 'OFF') : String(p.value);
}

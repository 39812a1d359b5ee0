/**
 * citygate's `events` in ThingsBoard: each event becomes telemetry of the gateway device
 * itself (`v1/devices/me/telemetry`, `{"ts": <event ts>, "values": {…}}`), so rule chains
 * and dashboards see it on the gateway's timeline:
 *
 * - every event: `citygate_event` (its type) and `citygate_event_body` (the whole event
 *   as a JSON value, its own `ts` included, as on citygate's own `events` topic);
 * - loss announcements — `buffer_dropped`, `buffer_lost`, `buffer_purged` — also as flat
 *   keys a rule chain can alarm on without parsing JSON: `citygate_loss_kind` (dropped,
 *   lost, purged), `citygate_loss_reason`, `citygate_loss_first_seq`,
 *   `citygate_loss_last_seq`, `citygate_loss_count` (and `citygate_loss_device` for a
 *   purge of one device);
 * - `buffer_rejected` (readings refused before they had a seq): `citygate_rejected_count`;
 *   `events_evicted`: `citygate_events_evicted`.
 *
 * ThingsBoard keeps one value per key and millisecond, so two events of one millisecond
 * would overwrite each other: `EventStamps` files an event that shares the millisecond of
 * the one sent just before it 1 ms later (so a loss announcement is never overwritten).
 * `device_state` events also drive connect/disconnect (devices.ts). Pure apart from that.
 */
import type { EventPayload } from '../../../core/payloads.js';
import { TB, type TbPublish } from './topics.js';
import type { TbValue } from './telemetry.js';

/** A gateway telemetry entry: values may be JSON objects too (ThingsBoard stores them as JSON). */
export interface GatewayEntry {
  ts: number;
  values: Record<string, TbValue | Record<string, unknown>>;
}

export const EVENT_KEY = 'citygate_event';
export const EVENT_BODY_KEY = 'citygate_event_body';

type LossEvent = Extract<EventPayload, { type: 'buffer_dropped' | 'buffer_lost' | 'buffer_purged' }>;

export function isLoss(ev: EventPayload): ev is LossEvent {
  return ev.type === 'buffer_dropped' || ev.type === 'buffer_lost' || ev.type === 'buffer_purged';
}

/** Flat keys of a loss announcement (same seq range as citygate's own event). */
export function lossValues(ev: LossEvent): Record<string, TbValue> {
  const kind = ev.type === 'buffer_dropped' ? 'dropped' : ev.type === 'buffer_lost' ? 'lost' : 'purged';
  const reason = ev.type === 'buffer_purged' ? 'purged' : ev.reason;
  const v: Record<string, TbValue> = {
    citygate_loss_kind: kind,
    citygate_loss_reason: reason,
    citygate_loss_first_seq: ev.first_seq,
    citygate_loss_last_seq: ev.last_seq,
    citygate_loss_count: ev.count,
  };
  if (ev.type === 'buffer_purged' && ev.device !== undefined) v.citygate_loss_device = ev.device;
  return v;
}

/** The gateway telemetry entry of one event, at `ts` (the event's own, unless EventStamps moved it). */
export function eventEntry(ev: EventPayload, ts: number = ev.ts): GatewayEntry {
  // The body keeps the event's own ts: the entry's may have been moved by EventStamps.
  const values: GatewayEntry['values'] = { [EVENT_KEY]: ev.type, [EVENT_BODY_KEY]: { ...ev } };
  if (isLoss(ev)) Object.assign(values, lossValues(ev));
  if (ev.type === 'buffer_rejected') values.citygate_rejected_count = ev.count;
  if (ev.type === 'events_evicted') values.citygate_events_evicted = ev.count;
  return { ts, values };
}

/** The `v1/devices/me/telemetry` publish of one event. */
export function eventPublish(ev: EventPayload, ts: number = ev.ts): TbPublish {
  return { topic: TB.gatewayTelemetry, payload: JSON.stringify(eventEntry(ev, ts)) };
}

/**
 * Timestamps for events in the order they are sent on one connection: an event in the
 * same millisecond as (or, after a clock step, before) the previous one is filed just after it.
 * `reset()` on every new connection, so events sent again after a reconnect get the same stamps.
 */
export class EventStamps {
  private last: number | undefined;

  stamp(ts: number): number {
    const out = this.last !== undefined && ts <= this.last && this.last - ts < 1000 ? this.last + 1 : ts;
    this.last = out;
    return out;
  }

  reset(): void {
    this.last = undefined;
  }
}

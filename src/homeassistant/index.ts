/**
 * Home Assistant MQTT discovery, off by default (`homeassistant.enabled`):
 *   schema.ts     the config section
 *   classes.ts    unit → HA unit, device class, state class (pure)
 *   discovery.ts  discovery and state topics and payloads (pure)
 *   index.ts      the publisher: discovery on every new connection and after a config
 *                 change, changed values every `interval`
 * It only publishes through the uplink's connection (QoS 0/1, retained, never queued
 * offline) and never touches the buffer.
 */
import type { Logger } from 'pino';
import type { Clock } from '../core/clock.js';
import type { HomeAssistantView } from './schema.js';
import type { PointView } from '../health/live.js';
import type { Topics } from '../uplink/topics.js';
import { announcements, stateTopic, statePayload } from './discovery.js';

export interface HomeAssistantHost {
  /** The config in force now (it changes on reload). */
  config(): HomeAssistantView;
  readonly topics: Topics;
  readonly clock: Clock;
  readonly log: Logger;
  readonly uplink: {
    publishRetained(topic: string, payload: string, qos: 0 | 1): boolean;
    stats(): { state: string; connectedSince?: number };
  };
  readonly live: { points(): PointView[] };
}

const CHECK_MS = 2000;

export class HomeAssistantPublisher {
  private cancel: (() => void) | undefined;
  private announcedFor: number | undefined;
  private announced = new Map<string, string>();
  private sent = new Map<string, string>();
  private lastStates = 0;

  constructor(private readonly h: HomeAssistantHost) {}

  start(): void {
    this.tick();
  }

  private tick(): void {
    this.cancel = this.h.clock.setTimer(CHECK_MS, () => {
      try {
        this.publish();
      } catch (err) {
        this.h.log.warn(`home assistant: ${String(err)}`);
      }
      this.tick();
    });
  }

  /** Announce if needed (new connection or changed point set), then changed values. */
  publish(): void {
    const ha = this.h.config().homeassistant;
    const st = this.h.uplink.stats();
    if (!ha.enabled || st.state !== 'online') return;
    const wanted = new Map(announcements(this.h.config(), this.h.topics, ha.prefix).map((a) => [a.topic, a.payload]));
    const reconnected = st.connectedSince !== this.announcedFor;
    if (reconnected) this.sent.clear();
    let n = 0;
    for (const [topic, payload] of wanted) {
      if (reconnected || this.announced.get(topic) !== payload) {
        this.h.uplink.publishRetained(topic, payload, 1);
        n++;
      }
    }
    for (const topic of this.announced.keys()) if (!wanted.has(topic)) this.h.uplink.publishRetained(topic, '', 1); // removed: clear it
    if (n > 0) this.h.log.info({ sensors: wanted.size }, `home assistant: announced ${n} sensor(s) under ${ha.prefix}/`);
    this.announced = wanted;
    this.announcedFor = st.connectedSince;
    const now = this.h.clock.mono();
    if (!reconnected && n === 0 && now - this.lastStates < ha.interval) return;
    this.lastStates = now;
    for (const p of this.h.live.points()) {
      const topic = stateTopic(this.h.topics, p.device, p.point);
      const payload = statePayload(p);
      if (this.sent.get(topic) === payload) continue;
      if (this.h.uplink.publishRetained(topic, payload, 0)) this.sent.set(topic, payload);
    }
  }

  stop(): void {
    this.cancel?.();
    this.cancel = undefined;
  }
}

export { homeAssistantSchema, type HomeAssistantConfig } from './schema.js';

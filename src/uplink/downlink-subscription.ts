/**
 * Downlink messages over the uplink's connection: the listener's filter is subscribed
 * (QoS 1) on every connection, and each message reaches it with its MQTT 5 response
 * topic and correlation data. A refused SUBSCRIBE is tried again on the same connection
 * (a clustered broker refuses while it elects leaders: NATS answers 0x80 then), after
 * 5 s doubling to 5 min, logged once per connection.
 */
import type { IPublishPacket, MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { Clock } from '../core/clock.js';
import { describeError } from '../core/errors.js';

/**
 * A listener for downlink messages (src/commands): subscribed to `filter` (QoS 1) on
 * every connection; `onMessage` gets each message with its MQTT 5 response topic and
 * correlation data, if any. It must not throw.
 */
export interface DownlinkListener {
  /** One filter, or several (one SUBSCRIBE). */
  filter: string | string[];
  onMessage(topic: string, payload: Buffer, props: { responseTopic?: string; correlationData?: Buffer }): void;
}

export interface SubscriptionContext {
  /** False once this connection is over (the retry stops). */
  alive(): boolean;
  clock: Clock;
  log: Logger;
}

export function subscribeDownlink(client: MqttClient, d: DownlinkListener, ctx: SubscriptionContext): void {
  client.on('message', (topic: string, payload: Buffer, packet: IPublishPacket) => {
    const p = packet.properties;
    const props: { responseTopic?: string; correlationData?: Buffer } = {};
    if (p?.responseTopic) props.responseTopic = p.responseTopic;
    if (p?.correlationData) props.correlationData = p.correlationData;
    d.onMessage(topic, payload, props);
  });
  let delay = 5000;
  const subscribe = (): void =>
    void client.subscribe(d.filter, { qos: 1 }, (err) => {
      if (!ctx.alive()) return;
      if (!err) {
        if (delay > 5000) ctx.log.info({ filter: d.filter }, 'uplink: subscribed to commands');
        return;
      }
      if (delay === 5000) ctx.log.warn({ filter: d.filter }, `uplink: subscribing to commands failed: ${describeError(err)} — check the broker ACL; trying again`);
      ctx.clock.setTimer(delay, () => ctx.alive() && subscribe());
      delay = Math.min(delay * 2, 300_000);
    });
  subscribe();
}

/**
 * Commands over MQTT: subscribes to the dialect's command filters through the uplink's
 * connection (citygate: `<root>/cmd/+`), hands each request the dialect finds in a message
 * to the dispatcher and publishes its answer where the dialect says (citygate: the MQTT 5
 * response topic with the request's correlation data when one was given, otherwise
 * `<root>/cmd/<name>/reply`). A broker ACL that lets the gateway publish only under
 * its root (docs/operations.md) means an MQTT 5 requester picks a response topic under
 * the root too, e.g. `<root>/cmd/<name>/reply/<requester>`. A refusal past its window's
 * reply budget (refusals.ts) gets no reply. Every dialect goes through the same
 * dispatcher: allow-list, writes, rate limit and duplicate rules are one.
 */
import type { Logger } from 'pino';
import type { DownlinkListener } from '../uplink/mqtt-uplink.js';
import type { CommandRoute, WireMessage } from '../uplink/dialects/dialect.js';
import type { CommandDispatcher } from './dispatcher.js';

export interface ReplyChannel {
  setDownlink(listener: DownlinkListener): void;
  publishReply(topic: string, payload: string, correlationData?: Buffer): boolean;
  /** Publish a dialect's message (the reply); false when offline. */
  publishWire(m: WireMessage): boolean;
}

export function attachCommands(uplink: ReplyChannel, route: CommandRoute, dispatcher: CommandDispatcher, log: Logger): void {
  uplink.setDownlink({
    filter: route.filters.length === 1 ? (route.filters[0] as string) : route.filters,
    onMessage(topic, payload, props) {
      for (const req of route.requests(topic, payload, props)) {
        void dispatcher.handle(req.name, req.payload, req.correlationData).then((reply) => {
          if (reply === null) return;
          const wire = req.reply(reply);
          if (wire && !uplink.publishWire(wire)) {
            log.warn({ command: req.name, id: reply.id }, `command ${req.name}: uplink offline, reply not sent (a retry with the same id gets it)`);
          }
        });
      }
    },
  });
}

/**
 * Commands over MQTT: subscribes to `<root>/cmd/+` through the uplink's connection,
 * hands each request to the dispatcher and publishes its answer — to the MQTT 5
 * response topic with the request's correlation data when one was given, otherwise
 * to `<root>/cmd/<name>/reply`. A broker ACL that lets the gateway publish only under
 * its root (docs/operations.md) means an MQTT 5 requester picks a response topic under
 * the root too, e.g. `<root>/cmd/<name>/reply/<requester>`. A refusal past its window's
 * reply budget (refusals.ts) gets no reply.
 */
import type { Logger } from 'pino';
import type { Topics } from '../uplink/topics.js';
import type { DownlinkListener } from '../uplink/mqtt-uplink.js';
import type { CommandDispatcher } from './dispatcher.js';
import { encodeReply } from './protocol.js';

export interface ReplyChannel {
  setDownlink(listener: DownlinkListener): void;
  publishReply(topic: string, payload: string, correlationData?: Buffer): boolean;
}

export function attachCommands(uplink: ReplyChannel, topics: Topics, dispatcher: CommandDispatcher, log: Logger): void {
  uplink.setDownlink({
    filter: topics.allCommands,
    onMessage(topic, payload, props) {
      const name = topics.commandName(topic);
      if (name === undefined) return;
      void dispatcher.handle(name, payload, props.correlationData).then((reply) => {
        if (reply === null) return;
        const to = props.responseTopic ?? topics.commandReply(name);
        if (!uplink.publishReply(to, encodeReply(reply), props.correlationData)) {
          log.warn({ command: name, id: reply.id }, `command ${name}: uplink offline, reply not sent (a retry with the same id gets it)`);
        }
      });
    },
  });
}

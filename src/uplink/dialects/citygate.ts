/**
 * citygate's own dialect (the default; docs/architecture.md#topics-and-payloads): data on
 * `<root>/data/<device>` as the lanes built it (JSON or compact), events on `events`, the
 * retained `status` (also the will) and `health`, commands on `cmd/<name>` answered on the
 * MQTT 5 response topic or `cmd/<name>/reply`. Exactly what the uplink did before dialects.
 */
import type { StatusPayload } from '../../core/payloads.js';
import type { LaneMessage } from '../lanes.js';
import type { Topics } from '../topics.js';
import type { CommandRoute, Dialect, DialectLink, WireMessage } from './dialect.js';

export interface CitygateDialectOptions {
  topics: Topics;
  version: string;
  /** Epoch ms when this run of the gateway started. */
  startedAt: number;
}

export class CitygateDialect implements Dialect {
  readonly name = 'citygate' as const;
  private link: DialectLink | undefined;
  readonly commands: CommandRoute;

  constructor(private readonly o: CitygateDialectOptions) {
    this.commands = citygateCommands(o.topics);
  }

  attach(link: DialectLink): void {
    this.link = link;
  }

  will(): WireMessage {
    return { topic: this.o.topics.status, payload: Buffer.from(JSON.stringify({ state: 'offline' })), qos: 1, retain: true };
  }

  online(): void {
    const status: StatusPayload = { state: 'online', version: this.o.version, started: this.o.startedAt };
    this.link?.publish({ topic: this.o.topics.status, payload: JSON.stringify(status), qos: 1, retain: true });
  }

  ready(): boolean {
    return true;
  }

  data(m: LaneMessage): WireMessage {
    return { topic: this.o.topics.data(m.device), payload: m.payload, qos: 1, ...(m.properties ? { properties: m.properties } : {}) };
  }

  event(json: string): WireMessage {
    return { topic: this.o.topics.events, payload: json, qos: 1 };
  }

  health(text: string): WireMessage {
    return { topic: this.o.topics.health, payload: text, qos: 0, retain: true };
  }

  closing(): WireMessage {
    const offline: StatusPayload = { state: 'offline', version: this.o.version, started: this.o.startedAt };
    return { topic: this.o.topics.status, payload: JSON.stringify(offline), qos: 1, retain: true };
  }

  down(): void {}
}

/**
 * `<root>/cmd/<name>` requests as they are; the answer to the MQTT 5 response topic with the
 * request's correlation data when one was given, otherwise to `<root>/cmd/<name>/reply`.
 */
export function citygateCommands(topics: Topics): CommandRoute {
  return {
    filters: [topics.allCommands],
    requests(topic, payload, props) {
      const name = topics.commandName(topic);
      if (name === undefined) return [];
      return [
        {
          name,
          payload,
          ...(props.correlationData ? { correlationData: props.correlationData } : {}),
          reply: (answer) => ({
            topic: props.responseTopic ?? topics.commandReply(name),
            payload: JSON.stringify(answer), // as src/commands/protocol.ts encodeReply (the uplink may not import commands)
            qos: 1,
            ...(props.correlationData ? { correlationData: props.correlationData } : {}),
          }),
        },
      ];
    },
  };
}

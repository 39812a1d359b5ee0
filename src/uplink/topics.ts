/**
 * Every MQTT topic citygate uses and the payload it carries (docs/architecture.md#topics-and-payloads).
 * Nothing else in the code builds topic strings.
 *
 * | topic              | retained | payload          |
 * | data/<device>      | no       | DataPayload      |
 * | status             | yes      | StatusPayload    |
 * | health             | yes      | HealthPayload    |
 * | events             | no       | EventPayload     |
 * | cmd/<name>         | no       | request (src/commands/protocol.ts) |
 * | cmd/<name>/reply   | no       | CommandReplyPayload (3.1.1; MQTT 5 uses the response topic) |
 */

/** The payload types, declared in core (src/core/payloads.ts), named here with their topics. */
export type { ReadingPayload, DataPayload, StatusPayload, HealthPayload, DropReason, LostReason, EventBody, EventPayload, CommandReplyPayload, DiskState } from '../core/payloads.js';

export class Topics {
  constructor(readonly root: string) {}

  static forGateway(gatewayId: string, topicRoot?: string): Topics {
    return new Topics(topicRoot ?? `citygate/${gatewayId}`);
  }

  data(device: string): string {
    return `${this.root}/data/${device}`;
  }
  get status(): string {
    return `${this.root}/status`;
  }
  get health(): string {
    return `${this.root}/health`;
  }
  get events(): string {
    return `${this.root}/events`;
  }
  /** Downlink command requests: `cmd/<name>`. */
  command(name: string): string {
    return `${this.root}/cmd/${name}`;
  }
  /** Where 3.1.1 replies go (and MQTT 5 ones without a response topic). */
  commandReply(name: string): string {
    return `${this.root}/cmd/${name}/reply`;
  }
  /** Subscription filter for every command request (one level: replies do not match). */
  get allCommands(): string {
    return `${this.root}/cmd/+`;
  }
  /** The command name of a request topic, or undefined when it is not one. */
  commandName(topic: string): string | undefined {
    const prefix = `${this.root}/cmd/`;
    if (!topic.startsWith(prefix)) return undefined;
    const name = topic.slice(prefix.length);
    return name.length > 0 && !name.includes('/') ? name : undefined;
  }
  /** Subscription filter for every data topic. */
  get allData(): string {
    return `${this.root}/data/+`;
  }
  /** A point's value for Home Assistant dashboards (retained view, not the delivery path). */
  haState(device: string, point: string): string {
    return `${this.root}/ha/${device}/${point}`;
  }
  /** Home Assistant's own discovery topic for one point (under its `discovery_prefix`); ids already slugged. */
  static haDiscovery(prefix: string, gatewaySlug: string, objectSlug: string): string {
    return `${prefix}/sensor/${gatewaySlug}/${objectSlug}/config`;
  }
  /** For fleet tools: the retained status and health of every gateway under a common root. */
  static fleet(root: string): { status: string; health: string } {
    const r = root.replace(/\/+$/, '');
    return { status: `${r}/+/status`, health: `${r}/+/health` };
  }
  /** Subscription filter for everything under the root. */
  get all(): string {
    return `${this.root}/#`;
  }
  /** Whether `topic` is one of this gateway's data topics. */
  isData(topic: string): boolean {
    return topic.startsWith(`${this.root}/data/`);
  }
}

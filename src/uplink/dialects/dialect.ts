/**
 * The dialect seam (`uplink.dialect`): what goes on the wire, and how commands come in.
 *
 * The uplink (mqtt-uplink.ts) keeps everything underneath unchanged whatever the dialect:
 * the durable buffer and its seq, the live-first lanes, at most `window` data messages
 * awaiting PUBACK, rows deleted only on PUBACK, events (loss announcements included)
 * deleted only on PUBACK, reconnecting. A dialect only decides, for each thing the uplink
 * has to send, which MQTT message carries it, and maps incoming downlink messages onto the
 * existing command requests (src/commands/protocol.ts), which then go through the same
 * dispatcher: `commands.allow`, `commands.writes`, rate limit, duplicate ids, replies.
 *
 * The contract, call by call (all synchronous, none may throw to the uplink):
 *
 * - `attach(link)` once, by the uplink that uses the dialect: the link is how it publishes
 *                  on its own (births, control answers) and asks for a reconnect.
 * - `will()`       before every connection attempt: the MQTT will of that CONNECT (citygate:
 *                  the retained status `{"state":"offline"}`; Sparkplug: NDEATH with this
 *                  connection's bdSeq). Undefined: no will.
 * - `online()`     the connection is up (CONNACK). Publish the session's opening messages
 *                  that need no gate (citygate: the retained status online). Called before the
 *                  downlink subscription is made and before the first `ready()`; the SUBSCRIBE
 *                  goes out before anything `ready()` may publish.
 * - `ready()`      asked before anything is published from the buffer (data, events) and before
 *                  health: false holds everything in the buffer (Sparkplug: primary host
 *                  offline). It may publish what must come first (births) through the link
 *                  and then answer true. When a held gate opens, the dialect calls `link.wake()`.
 * - `data(m)`      one data message built by the lanes from buffer rows (citygate JSON or
 *                  compact payload; `m.ackRows` are deleted on its PUBACK). Returns the one
 *                  MQTT message that carries it, published QoS 1 so its PUBACK can delete the
 *                  rows. It may publish what must precede it through the link (a device birth).
 *                  The readings' citygate `seq` must reach the consumer in every dialect.
 * - `event(json)`  one buffered event (an EventPayload as JSON: loss announcements
 *                  buffer_dropped/buffer_lost/…, device_state, command, …). Returns the message
 *                  carrying it (QoS 1: deleted on PUBACK), or undefined when it has no wire form
 *                  (deleted at once). Loss announcements must stay visible in every dialect.
 * - `health(text)` the health snapshot (HealthPayload JSON); undefined: not sent.
 * - `closing()`    a clean stop: the last message (citygate: status offline; Sparkplug: NDEATH).
 * - `down()`       the connection is gone (any reason): forget session state (births).
 * - `commands`     the downlink: filters subscribed (QoS 1) on every connection, and the
 *                  mapping of each message on them to command requests. Control messages of
 *                  the dialect itself (Sparkplug STATE, Node Control/Rebirth) arrive here too:
 *                  the dialect acts on them and returns no request.
 *
 * Topics are the dialect's: nothing else in the code builds Sparkplug or ThingsBoard topics.
 */
import type { CommandReplyPayload } from '../../core/payloads.js';
import type { LaneMessage } from '../lanes.js';

import type { DialectName } from '../../config/dialects.js';

export { DIALECTS, type DialectName } from '../../config/dialects.js';

/** One MQTT message as a dialect wants it published. */
export interface WireMessage {
  topic: string;
  payload: string | Buffer;
  qos: 0 | 1;
  retain?: boolean;
  /** MQTT 5 publish properties (content type, payload format). Ignored on 3.1.1. */
  properties?: { contentType?: string; payloadFormatIndicator?: boolean };
  /** MQTT 5 correlation data of a command reply (ignored on 3.1.1). */
  correlationData?: Buffer;
}

/** What the uplink lends a dialect: its current connection. */
export interface DialectLink {
  /**
   * Publish on the current connection now, in order with everything else the uplink sends
   * (nothing is queued while offline). False when there is no connection. `done` gets the
   * PUBACK (QoS 1) or the write (QoS 0); never called for a connection that died first.
   */
  publish(m: WireMessage, done?: (err?: Error) => void): boolean;
  /** Publish `last` (if any), drop the connection and reconnect as after any failure (Sparkplug: primary host went offline). */
  reconnect(reason: string, last?: WireMessage): void;
  /** A gate of `ready()` opened: try sending again. */
  wake(): void;
  /** The MQTT version of the current connection. */
  protocolVersion(): 4 | 5;
}

/** One downlink message as a command request for the dispatcher (src/commands). */
export interface CommandRequest {
  /** Command name (commands.allow decides). */
  name: string;
  /** The request in citygate's protocol: JSON `{"id","args"}` (src/commands/protocol.ts). */
  payload: Buffer;
  /** MQTT 5 correlation data (stands in for a missing id). */
  correlationData?: Buffer;
  /** Where the dispatcher's answer goes: the message to publish, or undefined for none. */
  reply(answer: CommandReplyPayload): WireMessage | undefined;
}

/** The downlink of a dialect. */
export interface CommandRoute {
  /** Subscribed (QoS 1) on every connection once commands are wired. */
  filters: string[];
  /** The requests a message on one of the filters carries (none for control messages and strangers). */
  requests(topic: string, payload: Buffer, props: { responseTopic?: string; correlationData?: Buffer }): CommandRequest[];
}

export interface Dialect {
  readonly name: DialectName;
  /** Called once, by the uplink that uses this dialect. */
  attach(link: DialectLink): void;
  will(): WireMessage | undefined;
  online(): void;
  ready(): boolean;
  data(m: LaneMessage): WireMessage;
  event(json: string): WireMessage | undefined;
  health(text: string): WireMessage | undefined;
  closing(): WireMessage | undefined;
  down(): void;
  readonly commands: CommandRoute;
  /**
   * After `closing()` (or a `reconnect` with a last message): end with an MQTT DISCONNECT,
   * so the broker discards the will (Sparkplug: the NDEATH was just published, a second one
   * would be noise). Absent or false: the connection is dropped and the will fires too
   * (citygate: its offline status again, harmless).
   */
  readonly disconnectCleanly?: boolean;
}

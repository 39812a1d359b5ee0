/**
 * The ThingsBoard dialect (`uplink.dialect: thingsboard`, docs/thingsboard.md): citygate as a
 * ThingsBoard gateway, speaking the gateway MQTT API as ThingsBoard documents it. The
 * gateway is itself a ThingsBoard device (its access token is the MQTT user name); the
 * devices behind it are named in each payload (`uplink.thingsboard.device_name`).
 *
 * What goes where (the codecs are in ./thingsboard/, each pure):
 * - link up: `v1/devices/me/attributes` (version, gateway id), then `v1/gateway/connect`
 *   and the `active` attribute for every device that is not down, before anything from
 *   the buffer (ThingsBoard delivers RPC only to connected devices);
 * - data: `v1/gateway/telemetry`, one entry per poll with `citygate_seq`…`citygate_seq_last`;
 * - events: `v1/devices/me/telemetry` of the gateway (loss announcements with flat
 *   `citygate_loss_*` keys); a `device_state` event first sends connect or disconnect and
 *   the `active` attribute;
 * - health: `v1/devices/me/telemetry`, the buffer depth and every loss counter;
 * - RPC on `v1/gateway/rpc` (to a device) and `v1/devices/me/rpc/request/+` (to the
 *   gateway) → citygate command requests, answered as ThingsBoard expects;
 * - no will, no retained messages: ThingsBoard tracks the gateway's connection itself;
 * - QoS: see `wire` below.
 * The buffer, seq, lanes and PUBACK rules underneath are the uplink's, unchanged.
 */
import type { DeviceState } from '../../core/health-reporter.js';
import type { EventPayload } from '../../core/payloads.js';
import { decodeDataPayload } from '../encoding/decode.js';
import type { LaneMessage } from '../lanes.js';
import type { CommandRequest, CommandRoute, Dialect, DialectLink, WireMessage } from './dialect.js';
import { DeviceLinks } from './thingsboard/devices.js';
import { EventStamps, eventPublish } from './thingsboard/events.js';
import { gatewayAttributes, healthPublish } from './thingsboard/health.js';
import { DeviceNames } from './thingsboard/names.js';
import { parseDeviceRpc, parseGatewayRpc, rpcReply, type RpcCall } from './thingsboard/rpc.js';
import { encodeTelemetry } from './thingsboard/telemetry.js';
import { TB, TB_SUBSCRIPTIONS, type TbPublish } from './thingsboard/topics.js';

export interface ThingsboardDialectOptions {
  gatewayId: string;
  version: string;
  /** Epoch ms when this run of the gateway started. */
  startedAt: number;
  /** `uplink.thingsboard.device_name`. */
  deviceName: string;
  /** The state of every configured device now (health); read at each link up. */
  deviceStates(): Record<string, DeviceState>;
  /** An unreadable downlink message (no answer is possible): say so, rate-limited by the caller's logger. */
  warn?(text: string): void;
}

/**
 * QoS 1 for what the buffer holds until PUBACK (telemetry, events) and for RPC answers.
 * QoS 0 for state (connect, disconnect, attributes, health): it is sent again in full at
 * every link up, so a lost one is repaired by the next connection, and QoS 0 keeps it out
 * of the broker's Receive Maximum, which the data window already fills (a burst of connects
 * for many devices at link up would exceed it).
 */
function wire(p: TbPublish, qos: 0 | 1 = 1): WireMessage {
  return { topic: p.topic, payload: p.payload, qos };
}

export class ThingsboardDialect implements Dialect {
  readonly name = 'thingsboard' as const;
  /** End a clean stop with an MQTT DISCONNECT (where the seam supports it): there is no will to fire, and ThingsBoard closes the session at once. */
  readonly disconnectCleanly = true;
  readonly names: DeviceNames;
  readonly commands: CommandRoute;
  private link: DialectLink | undefined;
  private readonly devices: DeviceLinks;
  private readonly stamps = new EventStamps();

  constructor(private readonly o: ThingsboardDialectOptions) {
    this.names = new DeviceNames(o.deviceName, o.gatewayId);
    this.devices = new DeviceLinks(this.names);
    this.commands = { filters: [...TB_SUBSCRIPTIONS], requests: (topic, payload) => this.requests(topic, payload) };
  }

  attach(link: DialectLink): void {
    this.link = link;
  }

  will(): undefined {
    return undefined;
  }

  online(): void {
    this.stamps.reset();
    this.send(gatewayAttributes({ gateway: this.o.gatewayId, version: this.o.version, deviceName: this.o.deviceName, started: this.o.startedAt }));
    for (const p of this.devices.online(this.states())) this.send(p);
  }

  /** Device states now; none when they cannot be read (each device is then connected before its first telemetry). */
  private states(): Record<string, DeviceState> {
    try {
      return this.o.deviceStates();
    } catch {
      return {};
    }
  }

  ready(): boolean {
    return true;
  }

  data(m: LaneMessage): WireMessage {
    // The lanes built citygate's JSON (compact is refused with this dialect by the config; it
    // would decode all the same). The reference decoder cannot fail on what the lanes built.
    const msg = decodeDataPayload(m.payload);
    for (const p of this.devices.before(m.device, this.states()[m.device] ?? 'ok')) this.send(p);
    return { topic: TB.telemetry, payload: encodeTelemetry(this.names.name(m.device), msg), qos: 1 };
  }

  event(json: string): WireMessage | undefined {
    let ev: EventPayload;
    try {
      ev = JSON.parse(json) as EventPayload;
    } catch {
      return undefined;
    }
    if (typeof ev !== 'object' || ev === null || typeof ev.type !== 'string' || typeof ev.ts !== 'number') return undefined;
    if (ev.type === 'device_state') for (const p of this.devices.transition(ev.device, ev.to)) this.send(p);
    return wire(eventPublish(ev, this.stamps.stamp(ev.ts)));
  }

  health(text: string): WireMessage | undefined {
    const p = healthPublish(text);
    return p && wire(p, 0);
  }

  closing(): WireMessage | undefined {
    // A clean stop: every connected device is disconnected (ThingsBoard would notice the
    // gateway's session end, but a disconnect says the gateway meant it).
    const out = this.devices
      .connectedDevices()
      .map((d) => ({ topic: TB.disconnect, payload: JSON.stringify({ device: this.names.name(d) }) }));
    const last = out.pop();
    for (const p of out) this.send(p);
    return last && wire(last, 0);
  }

  down(): void {
    this.stamps.reset();
  }

  private send(p: TbPublish): void {
    this.link?.publish(wire(p, 0));
  }

  private requests(topic: string, payload: Buffer): CommandRequest[] {
    const parsed = topic === TB.rpc ? parseDeviceRpc(payload, this.names) : parseGatewayRpc(topic, payload);
    if (!parsed.ok) {
      if ('error' in parsed) this.o.warn?.(`thingsboard: ${parsed.error} — not answered`);
      return [];
    }
    return [this.request(parsed.call)];
  }

  private request(call: RpcCall): CommandRequest {
    return { name: call.command, payload: call.request, reply: (answer) => wire(rpcReply(call.origin, answer)) };
  }
}

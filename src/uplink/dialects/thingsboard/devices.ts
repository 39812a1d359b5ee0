/**
 * Device health in ThingsBoard: `device_state` becomes `v1/gateway/connect` /
 * `v1/gateway/disconnect` and the device's `active` attribute (`v1/gateway/attributes`).
 *
 * - ThingsBoard sends RPC and shared-attribute updates for a device only while the
 *   gateway has it connected, so every device that is not `down` is connected each time
 *   the link comes up, before any telemetry of that connection (`online`).
 * - `down` → disconnect, `active: false`; `ok` or `degraded` → connect, `active: true`
 *   (degraded still reads, with errors; its `citygate_state` attribute says which).
 * - Only a change is sent: a `device_state` event that leaves the device on the same
 *   side (ok ↔ degraded) updates `citygate_state` alone.
 *
 * Payloads as ThingsBoard documents them: `{"device":"Device A"}` for connect and
 * disconnect, `{"Device A":{"active":true}}` for attributes. Pure apart from the
 * per-connection memory of what was sent.
 */
import type { DeviceState } from '../../../core/health-reporter.js';
import type { DeviceNames } from './names.js';
import { TB, type TbPublish } from './topics.js';

/** The client-side attribute that says whether the device is up. */
export const ACTIVE_ATTRIBUTE = 'active';
/** citygate's own word for the state (ok, degraded, down), also an attribute. */
export const STATE_ATTRIBUTE = 'citygate_state';

export function connectPayload(name: string): string {
  return JSON.stringify({ device: name });
}

export function disconnectPayload(name: string): string {
  return JSON.stringify({ device: name });
}

export function isUp(state: string): boolean {
  return state !== 'down';
}

export class DeviceLinks {
  /** What ThingsBoard was last told on this connection, per device id. */
  private readonly told = new Map<string, { up: boolean; state: string }>();

  constructor(private readonly names: DeviceNames) {}

  /** The link came up: connect every device that is not down, and set its attributes. */
  online(states: Readonly<Record<string, DeviceState>>): TbPublish[] {
    this.told.clear();
    const out: TbPublish[] = [];
    for (const [device, state] of Object.entries(states)) out.push(...this.tell(device, state, true));
    return out;
  }

  /** A `device_state` event (`to` is the state now; coalesced transitions are already folded in). */
  transition(device: string, to: string): TbPublish[] {
    return this.tell(device, to, false);
  }

  /**
   * Before telemetry of `device`: if ThingsBoard has not heard of it on this connection
   * (the link came up before the devices were built, or a reload added it), say it now,
   * in its current state, so connect comes before its first telemetry.
   */
  before(device: string, state: string): TbPublish[] {
    return this.told.has(device) ? [] : this.tell(device, state, true);
  }

  /** Whether ThingsBoard was told on this connection that `device` is connected. */
  connected(device: string): boolean {
    return this.told.get(device)?.up === true;
  }

  /** The devices ThingsBoard was told are connected on this connection. */
  connectedDevices(): string[] {
    return [...this.told].filter(([, t]) => t.up).map(([d]) => d);
  }

  private tell(device: string, state: string, first: boolean): TbPublish[] {
    const name = this.names.name(device);
    const up = isUp(state);
    const before = this.told.get(device);
    this.told.set(device, { up, state });
    const out: TbPublish[] = [];
    // At link up a down device is not disconnected: ThingsBoard has not heard of it on this connection.
    if (before?.up !== up && (up || !first)) out.push({ topic: up ? TB.connect : TB.disconnect, payload: up ? connectPayload(name) : disconnectPayload(name) });
    if (before?.up !== up || before.state !== state) {
      out.push({ topic: TB.attributes, payload: JSON.stringify({ [name]: { [ACTIVE_ATTRIBUTE]: up, [STATE_ATTRIBUTE]: state } }) });
    }
    return out;
  }
}

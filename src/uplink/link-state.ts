/**
 * What health says about the link, beyond "a connection is open":
 * - `stalled`: connected, data awaiting PUBACK, and nothing acknowledged for
 *   `stallAfter` ms — a black-holed link shows this long before the ack timeout
 *   drops it (and then `offline`). A slow link that still acknowledges is `online`.
 * - the time of the last acknowledgement, noticed by counting acknowledged readings
 *   (polled each second and on every stats call, so the send path is untouched).
 *
 * And a hint for issue 12 (one gateway id on two machines): the broker hands the
 * session to the other client — MQTT 5 says so (DISCONNECT 0x8E); MQTT 3.1.1 only
 * closes the socket, seen as repeated clean drops right after a good CONNACK.
 */
import type { UplinkState } from './uplink.js';

/** The stall threshold: a third of the ack timeout, at most 10 s, at least 1 s. */
export function stallAfter(ackTimeout: number): number {
  return Math.max(1000, Math.min(10_000, Math.round(ackTimeout / 3)));
}

export class AckWatch {
  private seen = 0;
  /** Monotonic and wall ms of the last acknowledgement noticed. */
  lastMono: number | undefined;
  lastWall: number | undefined;

  /** Call with the running count of acknowledged readings. */
  observe(acked: number, mono: number, wall: number): void {
    if (acked === this.seen) return;
    this.seen = acked;
    this.lastMono = mono;
    this.lastWall = wall;
  }

  /**
   * `online` becomes `stalled` when data is in flight and neither an acknowledgement
   * nor the oldest message in flight is younger than `stallMs`.
   */
  state(st: UplinkState, oldestInflightMono: number | undefined, now: number, stallMs: number): UplinkState {
    if (st !== 'online' || oldestInflightMono === undefined) return st;
    const since = Math.max(oldestInflightMono, this.lastMono ?? -Infinity);
    return now - since > stallMs ? 'stalled' : 'online';
  }
}

/** MQTT 5 reason code of a DISCONNECT sent because another client took the session. */
export const SESSION_TAKEN_OVER = 0x8e;
/** A clean drop this soon after CONNACK counts towards the 3.1.1 takeover pattern. */
export const SHORT_SESSION_MS = 10_000;
/** Short clean drops in a row before the hint on MQTT 3.1.1. */
export const SHORT_DROPS_HINT = 3;

/** Decides when to hint that another client uses our client id; says so once. */
export class TakeoverWatch {
  private shortDrops = 0;
  private hinted = false;

  /**
   * A connection ended. `takenOver`: the broker said so (MQTT 5). `clean`: no error
   * and no DISCONNECT reason. Returns true when the hint should be logged now.
   */
  ended(o: { takenOver: boolean; clean: boolean; livedMs: number }): boolean {
    if (o.takenOver) return this.hint();
    if (o.clean && o.livedMs < SHORT_SESSION_MS) {
      if (++this.shortDrops >= SHORT_DROPS_HINT) return this.hint();
    } else {
      this.shortDrops = 0;
    }
    return false;
  }

  /** The 3.1.1 pattern is showing: short clean drops keep coming. */
  get suspect(): boolean {
    return this.shortDrops >= SHORT_DROPS_HINT;
  }

  private hint(): boolean {
    if (this.hinted) return false;
    this.hinted = true;
    return true;
  }
}

/** The hint text. */
export function takeoverHint(clientId: string, gatewayId: string, mqtt5: boolean): string {
  return (
    `uplink: another client with client id "${clientId}" connected to the broker and took this session` +
    `${mqtt5 ? ' (DISCONNECT 0x8E, session taken over)' : ' (the broker keeps closing the connection right after accepting it)'}` +
    ` — is gateway id "${gatewayId}" running on two machines? Give each machine its own gateway.id (or uplink.client_id)`
  );
}

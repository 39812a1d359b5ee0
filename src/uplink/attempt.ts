/**
 * One connection attempt to one broker: a fresh mqtt.js client (reconnectPeriod 0, so it
 * never retries on its own: client-options.ts) with Nagle off on its socket (no-delay.ts),
 * and what the attempt learns before it ends. Contract:
 * - the constructor throws only when mqtt.js cannot start the client; nothing is open then;
 * - a hook is called only while `current()` holds (the uplink's generation counter), so a
 *   dead client's late events are harmless: `connected` on CONNACK; `error` with each client
 *   error in words an operator can act on (mqtt-errors.ts); `closed` when the connection
 *   ends, with what ProtocolChoice needs to know; `noConnack` when no CONNACK came within
 *   connect_timeout + 5 s (the attempt may still be connecting: the uplink decides);
 * - `failure` and `takenOver` say how it ended: the last error (a client error, or a
 *   DISCONNECT with a reason code), and whether the broker handed the session to another
 *   client (DISCONNECT 0x8E).
 * The uplink ends the client itself (listeners removed, `end(true)`).
 */
import mqtt, { type IClientOptions, type IConnackPacket, type MqttClient } from 'mqtt';
import type { Clock } from '../core/clock.js';
import { explainMqttError } from './mqtt-errors.js';
import { SESSION_TAKEN_OVER } from './link-state.js';
import { noDelay } from './no-delay.js';

export interface AttemptHooks {
  /** This attempt is still the uplink's current one. */
  current(): boolean;
  connected(connack: IConnackPacket): void;
  error(text: string): void;
  /** `code`: of the last client error (none: closed silently); `reached`: the TCP connection was up. */
  closed(code: string | number | undefined, reached: boolean): void;
  noConnack(): void;
}

export class Attempt {
  readonly client: MqttClient;
  /** The attempt's last error; undefined: none, so far. */
  failure: unknown;
  /** The broker sent DISCONNECT 0x8E: another client took the session. */
  takenOver = false;
  private code: string | number | undefined;
  /** The TCP connection was up: a silent close came from the broker. */
  private reached = false;

  constructor(url: string, options: IClientOptions, clock: Clock, connectTimeoutMs: number, hooks: AttemptHooks) {
    const client = mqtt.connect(url, options);
    this.client = client;
    noDelay(client.stream);
    const cancelDeadline = clock.setTimer(connectTimeoutMs + 5000, () => {
      if (hooks.current()) hooks.noConnack();
    });
    client.on('connect', (connack: IConnackPacket) => {
      cancelDeadline();
      if (hooks.current()) hooks.connected(connack);
    });
    client.stream.once('connect', () => {
      this.reached = true;
      noDelay(client.stream); // again once connected: a socket created unconnected keeps it only from here
    });
    const tls = url.startsWith('mqtts:');
    let secured = false;
    if (tls) client.stream.once('secureConnect', () => (secured = true));
    client.on('error', (err: Error & { code?: string | number }) => {
      if (!hooks.current()) return;
      this.code = err.code;
      this.failure = err;
      hooks.error(explainMqttError(err, tls && this.reached && !secured));
    });
    client.on('disconnect', (packet) => {
      if (!hooks.current()) return;
      if (packet.reasonCode === SESSION_TAKEN_OVER) this.takenOver = true;
      else if (packet.reasonCode) this.failure = Object.assign(new Error(`broker disconnected us (reason ${packet.reasonCode})`), { code: packet.reasonCode });
    });
    client.on('close', () => {
      cancelDeadline();
      if (hooks.current()) hooks.closed(this.code, this.reached);
    });
  }
}

/**
 * The cheap reachability probe: a plain TCP connect to the broker's host and port,
 * closed by us shortly after. No TLS handshake, no MQTT CONNECT: a broker sees a SYN
 * and a FIN, which costs it nearly nothing even from thousands of gateways.
 *
 * A peer that accepts and at once closes (a proxy or load balancer with nothing behind
 * it, a NAT box whose link is down) is not a broker: after connecting, the probe waits
 * as long as the connect took (at least HOLD_MIN_MS, at most HOLD_MAX_MS) and counts
 * a close in that time as unreachable. A broker waits seconds for CONNECT.
 */
import { connect } from 'node:net';

export const HOLD_MIN_MS = 250;
export const HOLD_MAX_MS = 2000;

/** Resolves true when a TCP connection to host:port opens within `timeoutMs` and stays open; never rejects. */
export function tcpReachable(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    let done = false;
    const started = performance.now();
    const socket = connect({ host, port });
    let timer: NodeJS.Timeout;
    const finish = (ok: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.removeAllListeners();
      socket.on('error', () => {});
      socket.destroy();
      resolve(ok);
    };
    timer = setTimeout(() => finish(false), timeoutMs);
    timer.unref?.();
    socket.once('connect', () => {
      clearTimeout(timer);
      const hold = Math.min(HOLD_MAX_MS, Math.max(HOLD_MIN_MS, performance.now() - started));
      timer = setTimeout(() => finish(true), hold);
      timer.unref?.();
    });
    socket.on('data', () => {}); // a banner is fine; a close is not
    socket.once('error', () => finish(false));
    socket.once('end', () => finish(false));
    socket.once('close', () => finish(false));
  });
}

/**
 * The cheap reachability probe: a plain TCP connect to the broker's host and port,
 * closed as soon as it is established. No TLS handshake, no MQTT CONNECT: a broker
 * sees a SYN and a FIN, which costs it nearly nothing even from thousands of gateways.
 */
import { connect } from 'node:net';

/** Resolves true when a TCP connection to host:port opens within `timeoutMs`; never rejects. */
export function tcpReachable(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    let done = false;
    const socket = connect({ host, port });
    const finish = (ok: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.removeAllListeners();
      socket.on('error', () => {});
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    timer.unref?.();
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
    socket.once('close', () => finish(false));
  });
}

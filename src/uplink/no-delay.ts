/**
 * TCP_NODELAY on the uplink's socket. The uplink writes a PUBLISH and waits for its
 * PUBACK with a bounded window: with Nagle's algorithm on, a small write waits for the
 * ACK of the previous one, which the broker's side delays (delayed ACK, up to 40 ms),
 * so the publish/PUBACK loop stalls. Measured at saturation (`npm run bench`,
 * saturation section; docs/performance.md). WebSocket streams have no socket option:
 * nothing to do there.
 */
interface MaybeSocket {
  setNoDelay?: (noDelay?: boolean) => unknown;
}

export function noDelay(stream: unknown): void {
  const s = stream as MaybeSocket | undefined;
  if (typeof s?.setNoDelay === 'function') s.setNoDelay(true);
}

/**
 * Bytes the uplink moved over its connections since start: MQTT bytes handed to and
 * read from the socket (under TLS, before encryption: the TLS records add about 30 B a
 * record; docs/encoding.md measures the whole wire). Each connection's socket counts
 * its own; when it closes, its figures are added to the totals.
 */
interface Counted {
  bytesWritten?: number;
  bytesRead?: number;
}

export class WireBytes {
  private sentDone = 0;
  private receivedDone = 0;
  private current: Counted | undefined;

  /** The socket of a new connection (mqtt.js `client.stream`). */
  attach(socket: unknown): void {
    this.detach();
    this.current = socket as Counted;
  }

  /** The connection ended: keep what it moved. */
  detach(): void {
    const c = this.current;
    if (!c) return;
    this.sentDone += c.bytesWritten ?? 0;
    this.receivedDone += c.bytesRead ?? 0;
    this.current = undefined;
  }

  totals(): { sent: number; received: number } {
    return { sent: this.sentDone + (this.current?.bytesWritten ?? 0), received: this.receivedDone + (this.current?.bytesRead ?? 0) };
  }
}

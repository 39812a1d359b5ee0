/**
 * The MQTT version to offer on the next attempt. A configured 5 stays 5 until a broker
 * shows it speaks only 3.1.1 (NATS 2.9 and RabbitMQ 3.x do, docs/brokers.md): a CONNACK
 * "unacceptable protocol version" (code 1), or the broker closing a TCP connection that
 * was up with no CONNACK and no error (RabbitMQ 3.x cannot parse an MQTT 5 CONNECT; over
 * ws:// such a close is not told apart from others, only the CONNACK counts). The next
 * attempt then offers 3.1.1; once 3.1.1 is accepted it stays for this process. A 3.1.1
 * attempt that fails too goes back to 5: the refusal was something else. A configured 4
 * never changes.
 */
export class ProtocolChoice {
  private fallback = false;
  private confirmed = false;
  constructor(private readonly configured: 4 | 5) {}

  get version(): 4 | 5 {
    return this.fallback ? 4 : this.configured;
  }

  /** An attempt ended without CONNACK: `code` of its error (none: closed silently); `reached`: the TCP connection was up. */
  failed(code: string | number | undefined, reached: boolean): void {
    if (this.configured === 4 || this.confirmed) return;
    if (!this.fallback) this.fallback = code === 1 || code === 132 || (code === undefined && reached);
    else this.fallback = false;
  }

  /** A CONNACK arrived. True exactly once: when 3.1.1 was first accepted after MQTT 5 was refused (log it). */
  accepted(): boolean {
    if (!this.fallback || this.confirmed) return false;
    this.confirmed = true;
    return true;
  }
}

/** mqtt.js connection errors in words an operator can act on (never echoing credentials). */
import { describeError } from '../core/errors.js';

/**
 * `duringTlsHandshake`: the TCP connection to an mqtts:// broker was up and the TLS
 * handshake had not finished. A reset then is almost always a plain-MQTT port (Mosquitto on
 * 1883 reads the TLS hello as a bad packet and closes): the raw "read ECONNRESET" says nothing.
 */
export function explainMqttError(err: Error & { code?: string | number }, duringTlsHandshake = false): string {
  const code = err.code;
  if (duringTlsHandshake && (code === 'ECONNRESET' || code === 'EPIPE' || code === 'ERR_SSL_WRONG_VERSION_NUMBER' || /before secure TLS connection/.test(err.message))) {
    return `TLS handshake failed: the broker's port closed the connection (${String(code ?? 'closed')}) — is it a plain MQTT port? mqtts:// needs the broker's TLS listener (usually 8883; 1883 is plain MQTT)`;
  }
  if (code === 4 || code === 134) return 'broker refused the connection: bad username or password — check uplink.username/password';
  if (code === 5 || code === 135)
    return 'broker refused the connection: not authorized — check uplink.username/password (Mosquitto answers a wrong password this way) and the broker ACL for this client';
  if (code === 1 || code === 132) return 'broker refused the MQTT protocol version — an MQTT 5 attempt is followed by one with 3.1.1 (uplink.protocol_version: 4 skips MQTT 5)';
  if (code === 2 || code === 133) return 'broker rejected the client id — check uplink.client_id';
  if (typeof code === 'string' && /ALERT_CERTIFICATE_REQUIRED/.test(code))
    return `TLS: the broker requires a client certificate (${code}) — set uplink.tls.cert and uplink.tls.key`;
  if (typeof code === 'string' && /ALERT_(UNKNOWN_CA|BAD_CERTIFICATE|CERTIFICATE_UNKNOWN|UNSUPPORTED_CERTIFICATE|CERTIFICATE_EXPIRED|ACCESS_DENIED)/.test(code))
    return `TLS: the broker refused our client certificate (${code}) — check uplink.tls.cert/key and that the broker trusts the CA that signed it`;
  if (typeof code === 'string' && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code))
    return `TLS: broker certificate not trusted (${code}) — check uplink.tls.ca and the broker's hostname`;
  if (code === 'ECONNREFUSED') return 'connection refused — is the broker running and the port right?';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'broker host name does not resolve — check uplink.url and DNS';
  return describeError(err);
}

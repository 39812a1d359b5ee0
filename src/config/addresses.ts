/**
 * Broker URLs and `host:port` listen addresses, checked the way Node will use them,
 * so a typo is a config error with a position rather than an `Invalid URL` at start.
 * Each check returns the problem in words, or undefined when the value is fine.
 */

const SCHEMES = ['mqtt:', 'mqtts:', 'ws:', 'wss:'];
const EXAMPLE = '"mqtts://broker.example:8883"';

export function brokerUrlProblem(text: string): string | undefined {
  const m = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)/i.exec(text);
  if (!m) return `expected a broker URL like ${EXAMPLE} (mqtt, mqtts, ws or wss), got ${JSON.stringify(text)}`;
  const scheme = `${(m[1] as string).toLowerCase()}:`;
  if (!SCHEMES.includes(scheme)) return `${scheme}// is not an MQTT scheme — use mqtts:// (TLS), wss://, or mqtt:// / ws:// on loopback`;
  const authority = m[2] as string;
  if (authority.includes('@')) return 'credentials do not belong in the URL (URLs end up in logs) — use uplink.username and uplink.password';
  const hp = hostPort(authority);
  if (typeof hp === 'string') return `${hp} — write the URL like ${EXAMPLE}`;
  try {
    new URL(text);
  } catch {
    return `${JSON.stringify(text)} is not a valid URL — write it like ${EXAMPLE}`;
  }
  return undefined;
}

/** `host:port` for a listening socket (health.http). */
export function listenAddressProblem(text: string): string | undefined {
  const hp = hostPort(text);
  if (typeof hp === 'string') return `${hp} — expected host:port like "127.0.0.1:8787"`;
  if (hp.port === undefined) return `no port in ${JSON.stringify(text)} — expected host:port like "127.0.0.1:8787"`;
  return undefined;
}

/** Split "host:port" / "[v6]:port"; a string result is the problem. */
function hostPort(authority: string): { host: string; port?: number } | string {
  let host: string;
  let rest: string;
  if (authority.startsWith('[')) {
    const end = authority.indexOf(']');
    if (end < 0) return `unclosed "[" in the IPv6 address ${JSON.stringify(authority)}`;
    host = authority.slice(0, end + 1);
    rest = authority.slice(end + 1);
    if (rest !== '' && !rest.startsWith(':')) return `unexpected ${JSON.stringify(rest)} after the IPv6 address`;
  } else {
    const colon = authority.lastIndexOf(':');
    host = colon < 0 ? authority : authority.slice(0, colon);
    rest = colon < 0 ? '' : authority.slice(colon);
    if (host.includes(':')) return `an IPv6 address needs brackets: [${host}]`;
  }
  if (host === '' || host === '[]') return 'no host name';
  if (rest === '') return { host };
  const digits = rest.slice(1);
  if (!/^\d+$/.test(digits)) return `port ${JSON.stringify(digits)} is not a number`;
  const port = Number(digits);
  if (port < 1 || port > 65_535) return `port ${digits} is out of range (1-65535)`;
  return { host, port };
}

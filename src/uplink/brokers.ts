/**
 * The broker list (`uplink.url`, one URL or several): each with its host and port for
 * the reachability probe, and whether it is plain text to a non-loopback host.
 */
import { isLoopbackHost } from './client-options.js';

export interface Broker {
  /** Position in `uplink.url` (0 = the first). */
  index: number;
  url: string;
  /** Host name or address without IPv6 brackets. */
  host: string;
  port: number;
  /** Plain mqtt:// or ws:// to a host that is not loopback. */
  insecure: boolean;
}

/** `uplink.url` as a list, whatever form it was written in. */
export function brokerUrls(url: string | readonly string[]): string[] {
  return typeof url === 'string' ? [url] : [...url];
}

export function parseBroker(url: string, index: number): Broker {
  const u = new URL(url);
  const plain = u.protocol === 'mqtt:' || u.protocol === 'ws:';
  const defaultPort = u.protocol === 'mqtts:' ? 8883 : u.protocol === 'wss:' ? 443 : u.protocol === 'ws:' ? 80 : 1883;
  return {
    index,
    url,
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port ? Number(u.port) : defaultPort,
    insecure: plain && !isLoopbackHost(u.hostname),
  };
}

export function parseBrokers(url: string | readonly string[]): Broker[] {
  return brokerUrls(url).map(parseBroker);
}

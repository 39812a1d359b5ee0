/**
 * mqtt.js options from our config. Why each non-default is set (docs/field-notes.md, MQTT section):
 * - `reconnectPeriod: 0`: we reconnect ourselves (redial.ts), on a fresh
 *   client each time, so a client stuck after a keepalive timeout (mqttjs #1897,
 *   zigbee2mqtt #33150) is never reused and mqtt.js never replays its own store.
 * - `queueQoSZero: false`: nothing queues inside mqtt.js while offline.
 * - `rejectUnauthorized: true`: certificates are always verified; there is no switch.
 * - The will is the dialect's (dialects/dialect.ts): by default the retained `status` {"state":"offline"}.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { IClientOptions } from 'mqtt';
import type { UplinkConfig } from '../config/schema.js';
import { UserError } from '../core/errors.js';
import type { Topics } from './topics.js';
import type { WireMessage } from './dialects/dialect.js';

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\./.test(host);
}

function readPem(what: string, path: string | undefined): Buffer | undefined {
  if (!path) return undefined;
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(`uplink.tls.${what}: cannot read ${path} (${code ?? 'error'}) — check the path and that the citygate user may read it`);
  }
}

/**
 * Options for one broker: `brokerUrl` is one entry of `uplink.url` (the first by
 * default); `version` the MQTT version to offer (the configured one, or 3.1.1 after a
 * broker refused 5: protocol-choice.ts).
 */
export function clientOptions(cfg: UplinkConfig, gatewayId: string, topics: Topics, brokerUrl?: string, version: 4 | 5 = cfg.protocol_version, will?: WireMessage | null): IClientOptions {
  const url = new URL(brokerUrl ?? (typeof cfg.url === 'string' ? cfg.url : (cfg.url[0] as string)));
  const opts: IClientOptions = {
    protocolVersion: version,
    clientId: cfg.client_id ?? `citygate-${gatewayId}`,
    clean: true,
    keepalive: Math.max(1, Math.round(cfg.keepalive / 1000)),
    connectTimeout: cfg.connect_timeout,
    reconnectPeriod: 0,
    queueQoSZero: false,
    resubscribe: false,
  };
  // The dialect's will (dialects/dialect.ts); null: none; undefined: citygate's status.
  const w = will === undefined ? { topic: topics.status, payload: Buffer.from(JSON.stringify({ state: 'offline' })), qos: 1 as const, retain: true } : will;
  if (w) opts.will = { topic: w.topic, payload: Buffer.from(w.payload), qos: w.qos, retain: w.retain === true };
  // ThingsBoard takes a device's access token as the MQTT user name (docs/thingsboard.md).
  const username = cfg.thingsboard?.access_token ?? cfg.username;
  if (username !== undefined) opts.username = username;
  if (cfg.password !== undefined) opts.password = cfg.password;
  if (version === 5) opts.properties = { receiveMaximum: 16, maximumPacketSize: 1 << 20 };
  if (url.protocol === 'mqtts:' || url.protocol === 'wss:') {
    opts.rejectUnauthorized = true;
    const ca = readPem('ca', cfg.tls?.ca);
    const cert = readPem('cert', cfg.tls?.cert);
    const key = readPem('key', cfg.tls?.key);
    if (ca) opts.ca = ca;
    if (cert) opts.cert = cert;
    if (key) opts.key = key;
    // SNI takes host names only (Node warns, DEP0123, when given an IP address).
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const servername = cfg.tls?.servername ?? (isIP(host) === 0 ? host : undefined);
    if (servername) opts.servername = servername;
  }
  return opts;
}

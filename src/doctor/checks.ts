/**
 * `citygate doctor`'s checks. Each answers one question a technician asks on site and
 * says what to do when the answer is no. Checks never throw; they report.
 */
import { accessSync, constants, existsSync, readFileSync, statfsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { userInfo } from 'node:os';
import net from 'node:net';
import tls from 'node:tls';
import mqtt from 'mqtt';
import type { GatewayConfig } from '../config/schema.js';
import { findDriver } from '../drivers/registry.js';
import { clientOptions, isLoopbackHost } from '../uplink/client-options.js';
import { Topics } from '../uplink/topics.js';
import { brokerUrls } from '../uplink/brokers.js';
import { explainMqttError } from '../uplink/mqtt-errors.js';
import { describeError } from '../core/errors.js';
import { formatBytes } from '../core/units.js';

/** The user deploy/citygate.service runs as. */
const SERVICE_USER = 'citygate';

export type Verdict = 'ok' | 'warn' | 'fail';
export interface CheckResult {
  name: string;
  verdict: Verdict;
  detail: string;
}

const ok = (name: string, detail: string): CheckResult => ({ name, verdict: 'ok', detail });
const warn = (name: string, detail: string): CheckResult => ({ name, verdict: 'warn', detail });
const fail = (name: string, detail: string): CheckResult => ({ name, verdict: 'fail', detail });

export function checkDataDir(c: GatewayConfig): CheckResult[] {
  const dir = c.gateway.data_dir;
  const out: CheckResult[] = [];
  try {
    accessSync(dir, constants.W_OK | constants.R_OK);
    out.push(ok('data dir', `${dir} is writable`));
  } catch {
    out.push(
      fail('data dir', existsSync(dir) ? `${dir} is not writable by ${userInfo().username} — sudo chown citygate: ${dir}` : `${dir} does not exist — sudo install -d -o citygate ${dir}`),
    );
    return out;
  }
  const s = statfsSync(dir);
  const free = s.bavail * s.bsize;
  const need = c.buffer.max_bytes * 1.5;
  out.push(
    free < need
      ? warn('disk', `${formatBytes(free)} free on ${dir}, less than 1.5 × buffer.max_bytes (${formatBytes(c.buffer.max_bytes)}): a long outage could fill the disk`)
      : ok('disk', `${formatBytes(free)} free`),
  );
  return out;
}

export function checkClock(): CheckResult {
  try {
    const v = execFileSync('timedatectl', ['show', '-p', 'NTPSynchronized', '--value'], { encoding: 'utf8', timeout: 3000, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return v === 'yes'
      ? ok('clock', 'NTP synchronised')
      : warn('clock', 'not NTP-synchronised: a Pi has no RTC, timestamps may be wrong — check `timedatectl` and network time');
  } catch {
    return existsSync('/run/systemd/timesync/synchronized')
      ? ok('clock', 'systemd-timesyncd synchronised')
      : warn('clock', 'cannot tell whether the clock is synchronised (no timedatectl) — check NTP/chrony');
  }
}

function inGroup(group: string): boolean | undefined {
  try {
    return execFileSync('id', ['-Gn'], { encoding: 'utf8', timeout: 2000, stdio: ['ignore', 'pipe', 'ignore'] }).split(/\s+/).includes(group);
  } catch {
    return undefined;
  }
}

export async function checkDevices(c: GatewayConfig): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  const root = process.getuid?.() === 0;
  const claims = [
    ...Object.entries(c.buses).flatMap(([name, b]) => (typeof b.port === 'string' ? [{ who: `bus ${name}`, what: `serial:${b.port}` }] : [])),
    ...c.devices.flatMap((d) => (findDriver(d.driver)?.claims?.(d) ?? []).map((what) => ({ who: `device ${d.id}`, what }))),
  ];
  for (const { who, what } of claims) {
    const [kind, target] = [what.slice(0, what.indexOf(':')), what.slice(what.indexOf(':') + 1)];
    if (kind === 'serial') {
      if (!existsSync(target)) {
        out.push(fail(who, `${target} does not exist — is the adapter plugged in? (ls /dev/serial/by-id/)`));
        continue;
      }
      try {
        accessSync(target, constants.R_OK | constants.W_OK);
        out.push(ok(who, `${target} is accessible`));
      } catch {
        out.push(fail(who, `${target} is not accessible to ${userInfo().username}${!root && inGroup('dialout') === false ? ` — add the service user to dialout: sudo usermod -aG dialout ${SERVICE_USER} (then restart the service)` : ''}`));
      }
    } else if (kind === 'gpio') {
      // The same checks the GPIO port makes before opening a line: sysfs present, the
      // chip (the Pi's controller for a BCM pin) and its base (0, 512, 571 …), the line
      // valid, export writable. The claim is `17` (BCM) or `<chip>:<offset>`.
      const cut = target.lastIndexOf(':');
      const ref = /^\d+$/.test(target) ? Number(target) : { chip: target.slice(0, cut), line: Number(target.slice(cut + 1)) };
      const name = typeof ref === 'number' ? `BCM ${ref}` : `${ref.chip} line ${ref.line}`;
      try {
        const { preflight } = await import('../ports/gpio/index.js');
        const r = await preflight('/sys/class/gpio', ref);
        out.push(ok(who, `${name} = sysfs gpio${r.kernel} on ${r.controller.label} (base ${r.controller.base})${r.exported ? ', already exported' : ''}`));
      } catch (err) {
        out.push(fail(who, `${name}: ${describeError(err)}`));
      }
    }
  }
  return out;
}

/** TCP, then TLS (verifying the certificate), then an MQTT CONNECT with the real credentials; for each broker listed. */
export async function checkBroker(c: GatewayConfig): Promise<CheckResult[]> {
  const urls = brokerUrls(c.uplink.url);
  const out: CheckResult[] = [];
  for (const [i, u] of urls.entries()) {
    const rs = await checkOneBroker(c, u);
    // With several brokers, say which one each line is about.
    out.push(...(urls.length > 1 ? rs.map((r) => ({ ...r, detail: `broker ${i + 1} (${u}): ${r.detail}` })) : rs));
  }
  return out;
}

async function checkOneBroker(c: GatewayConfig, urlText: string): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  const url = new URL(urlText);
  const secure = url.protocol === 'mqtts:' || url.protocol === 'wss:';
  const port = Number(url.port || (secure ? (url.protocol === 'wss:' ? 443 : 8883) : url.protocol === 'ws:' ? 80 : 1883));
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const tcp = await tcpProblem(host, port);
  if (tcp) return [fail('broker tcp', `${host}:${port} (uplink.url): ${tcp} Until it answers, the gateway keeps readings in its buffer.`)];
  out.push(ok('broker tcp', `${host}:${port} reachable`));
  if (!secure) {
    out.push(
      isLoopbackHost(host)
        ? ok('broker tls', 'plain MQTT to a broker on this machine (loopback)')
        : warn('broker tls', 'plain MQTT: readings and credentials cross the network unencrypted — use mqtts://'),
    );
  }

  let opts;
  try {
    // No will but citygate's own: a doctor's test connection must not announce a Sparkplug death.
    opts = clientOptions(c.uplink, c.gateway.id, Topics.forGateway(c.gateway.id, c.uplink.topic_root), urlText, undefined, c.uplink.dialect === 'citygate' ? undefined : null);
  } catch (err) {
    return [...out, fail('broker tls', describeError(err))];
  }
  const files = tlsFileProblems(c);
  if (files.length) return [...out, ...files];
  if (secure && url.protocol === 'mqtts:') {
    const t = await new Promise<string | undefined>((resolve) => {
      const s = tls.connect({ host, port, ca: opts.ca as Buffer | undefined, cert: opts.cert as Buffer | undefined, key: opts.key as Buffer | undefined, servername: opts.servername, rejectUnauthorized: true, timeout: 5000 });
      s.once('secureConnect', () => (s.destroy(), resolve(undefined)));
      // Known causes in the uplink's own words (a plain MQTT port, an untrusted certificate …); others with the usual hint.
      s.once('error', (e) => {
        const known = explainMqttError(e, true);
        resolve(known === describeError(e) ? `${known} — check uplink.tls.ca / servername` : known);
      });
      s.once('timeout', () => (s.destroy(), resolve('TLS handshake timed out — check uplink.tls.ca / servername')));
    });
    out.push(t ? fail('broker tls', t) : ok('broker tls', 'certificate verified'));
    if (t) return out;
  }
  const mqttResult = await new Promise<string | undefined>((resolve) => {
    const client = mqtt.connect(urlText, { ...opts, clientId: `${opts.clientId}-doctor`, will: undefined, connectTimeout: 8000 });
    const done = (r: string | undefined): void => {
      client.end(true);
      resolve(r);
    };
    client.once('connect', () => done(undefined));
    client.once('error', (e) => done(describeError(e)));
    setTimeout(() => done('no CONNACK within 8s'), 8000).unref();
  });
  out.push(mqttResult ? fail('broker mqtt', `${mqttResult} — check uplink.username/password and the broker ACL`) : ok('broker mqtt', `MQTT ${c.uplink.protocol_version === 5 ? '5' : '3.1.1'} CONNECT accepted`));
  return out;
}

/** Connect, and on failure say what it means and what to try. */
export function tcpProblem(host: string, port: number, timeoutMs = 5000): Promise<string | undefined> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port, timeout: timeoutMs });
    s.once('connect', () => (s.destroy(), resolve(undefined)));
    s.once('timeout', () => (s.destroy(), resolve(`no answer within ${timeoutMs / 1000}s: a firewall dropping packets, or the wrong address`)));
    s.once('error', (e: NodeJS.ErrnoException) => {
      const why: Record<string, string> = {
        ECONNREFUSED: 'connection refused: the host is up but nothing listens on this port — is the service running, and is the port right?',
        ENOTFOUND: 'the name does not resolve — check its spelling and DNS (/etc/resolv.conf)',
        EHOSTUNREACH: 'host unreachable — check the network link and routes (ip route)',
        ENETUNREACH: 'network unreachable — is the uplink (cellular, ethernet) up?',
      };
      resolve(why[e.code ?? ''] ?? describeError(e));
    });
  });
}

/**
 * The TLS files exist and are what their key says: a private key given as `ca` would
 * otherwise fail as "unable to verify the first certificate", pointing at the wrong fix.
 */
export function tlsFileProblems(c: GatewayConfig): CheckResult[] {
  const out: CheckResult[] = [];
  const tlsConf = c.uplink.tls;
  if (!tlsConf) return out;
  const expect: [keyof typeof tlsConf, RegExp, string][] = [
    ['ca', /-----BEGIN CERTIFICATE-----/, 'a CA certificate (-----BEGIN CERTIFICATE-----)'],
    ['cert', /-----BEGIN CERTIFICATE-----/, 'a certificate (-----BEGIN CERTIFICATE-----)'],
    ['key', /-----BEGIN [A-Z ]*PRIVATE KEY-----/, 'a private key (-----BEGIN … PRIVATE KEY-----)'],
  ];
  for (const [k, re, what] of expect) {
    const file = tlsConf[k];
    if (!file) continue;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      out.push(fail('broker tls', `uplink.tls.${k}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? describeError(err)})`));
      continue;
    }
    if (re.test(text)) continue;
    const is = /PRIVATE KEY-----/.test(text) ? 'a private key' : /BEGIN CERTIFICATE/.test(text) ? 'a certificate' : 'not PEM';
    out.push(fail('broker tls', `uplink.tls.${k}: ${file} is ${is}; it should be ${what} — check which file goes where`));
  }
  return out;
}

/** Modbus TCP buses: is the PLC (or RTU gateway) listening where the config says? */
export async function checkModbusTcp(c: GatewayConfig): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  for (const [name, bus] of Object.entries(c.buses)) {
    if (bus.type !== 'modbus-tcp') continue;
    const host = String(bus.host);
    const port = Number(bus.port);
    const problem = await tcpProblem(host, port, 3000);
    out.push(problem ? fail(`bus ${name}`, `${host}:${port}: ${problem}`) : ok(`bus ${name}`, `${host}:${port} accepts connections (probe the slaves: citygate probe modbus scan --host ${host} --port ${port})`));
  }
  return out;
}

/**
 * `citygate doctor`'s checks. Each answers one question a technician asks on site and
 * says what to do when the answer is no. Checks never throw; they report.
 */
import { accessSync, constants, existsSync, statfsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { userInfo } from 'node:os';
import net from 'node:net';
import tls from 'node:tls';
import mqtt from 'mqtt';
import type { GatewayConfig } from '../config/schema.js';
import { findDriver } from '../drivers/registry.js';
import { clientOptions, isLoopbackHost } from '../uplink/client-options.js';
import { Topics } from '../uplink/topics.js';
import { describeError } from '../core/errors.js';
import { formatBytes } from '../config/units.js';

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
        out.push(fail(who, `${target} is not accessible${!root && inGroup('dialout') === false ? ' — add the user to dialout: sudo usermod -aG dialout $USER' : ''}`));
      }
    } else if (kind === 'gpio') {
      // The same checks the GPIO port makes before opening a line: sysfs present, the
      // Pi's controller and its base (0, 512, 571 …), the pin valid, export writable.
      try {
        const { preflight } = await import('../ports/gpio/index.js');
        const r = await preflight('/sys/class/gpio', Number(target));
        out.push(ok(who, `BCM ${target} = sysfs gpio${r.kernel} on ${r.controller.label} (base ${r.controller.base})${r.exported ? ', already exported' : ''}`));
      } catch (err) {
        out.push(fail(who, `BCM ${target}: ${describeError(err)}`));
      }
    }
  }
  return out;
}

/** TCP, then TLS (verifying the certificate), then an MQTT CONNECT with the real credentials. */
export async function checkBroker(c: GatewayConfig): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  const url = new URL(c.uplink.url);
  const secure = url.protocol === 'mqtts:' || url.protocol === 'wss:';
  const port = Number(url.port || (secure ? (url.protocol === 'wss:' ? 443 : 8883) : url.protocol === 'ws:' ? 80 : 1883));
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const tcp = await new Promise<string | undefined>((resolve) => {
    const s = net.connect({ host, port, timeout: 5000 });
    s.once('connect', () => (s.destroy(), resolve(undefined)));
    s.once('timeout', () => (s.destroy(), resolve('timed out after 5s (firewall? wrong port?)')));
    s.once('error', (e) => resolve(describeError(e)));
  });
  if (tcp) return [fail('broker tcp', `${host}:${port}: ${tcp}`)];
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
    opts = clientOptions(c.uplink, c.gateway.id, Topics.forGateway(c.gateway.id, c.uplink.topic_root));
  } catch (err) {
    return [...out, fail('broker tls', describeError(err))];
  }
  if (secure && url.protocol === 'mqtts:') {
    const t = await new Promise<string | undefined>((resolve) => {
      const s = tls.connect({ host, port, ca: opts.ca as Buffer | undefined, cert: opts.cert as Buffer | undefined, key: opts.key as Buffer | undefined, servername: opts.servername, rejectUnauthorized: true, timeout: 5000 });
      s.once('secureConnect', () => (s.destroy(), resolve(undefined)));
      s.once('error', (e) => resolve(describeError(e)));
      s.once('timeout', () => (s.destroy(), resolve('TLS handshake timed out')));
    });
    out.push(t ? fail('broker tls', `${t} — check uplink.tls.ca / servername`) : ok('broker tls', 'certificate verified'));
    if (t) return out;
  }
  const mqttResult = await new Promise<string | undefined>((resolve) => {
    const client = mqtt.connect(c.uplink.url, { ...opts, clientId: `${opts.clientId}-doctor`, will: undefined, connectTimeout: 8000 });
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

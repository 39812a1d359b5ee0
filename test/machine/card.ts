/**
 * What a technician puts on a gateway's card, and the broker it reports to, for the
 * machine test: a TLS Mosquitto on a free port of the host's 127.0.0.1 (the guest
 * reaches it as 10.0.2.2 through qemu's user-mode network, which is not loopback from
 * the gateway's side, so the uplink is mqtts with a test CA whose server certificate
 * names 10.0.2.2), and a boot partition with `citygate/` filled as deploy/README.md
 * says: gateway.yaml, env (the MQTT password), ca.pem, client.pem, client.key, the
 * release bundle with its .sha256 and firstboot.sh, plus the `systemd.run=` entry in
 * cmdline.txt.
 */
import { copyFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeCa, makeLeaf } from '../helpers/certs.js';
import { tempDir } from '../helpers/gateway-config.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { BootFs } from './bootfs.js';
import type { Bundle } from './bundle.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

export const GATEWAY_ID = 'machine-gw';
export const MQTT_PASSWORD = 'machine-s3cret-on-the-card';
/** The kernel command line of the guest, before the technician's addition. */
export const BASE_CMDLINE = 'root=/dev/vda rw console=ttyS0 net.ifnames=0 systemd.show_status=1';
/** What deploy/README.md tells the technician to append to cmdline.txt. */
export const FIRSTBOOT_CMDLINE = 'systemd.run=/boot/firmware/citygate/firstboot.sh systemd.run_success_action=reboot systemd.unit=kernel-command-line.target';

export interface Site {
  dir: string;
  broker: Mosquitto;
  ca: string;
  /** Client certificate and key for the host's own subscriber. */
  hostClient: { ca: string; cert: string; key: string };
  gw: { cert: string; key: string };
}

/** Certificates and a running TLS Mosquitto (a client certificate from the test CA required). */
export async function startSite(): Promise<Site> {
  const dir = tempDir('cg-machine-site-');
  const ca = makeCa(dir);
  const server = makeLeaf(dir, 'server', 'citygate-machine-broker', ca, ['subjectAltName=IP:10.0.2.2,IP:127.0.0.1,DNS:localhost', 'extendedKeyUsage=serverAuth']);
  const gw = makeLeaf(dir, 'gw', GATEWAY_ID, ca, ['extendedKeyUsage=clientAuth']);
  const host = makeLeaf(dir, 'host', 'machine-test-collector', ca, ['extendedKeyUsage=clientAuth']);
  // Clients are admitted by certificate (require_certificate); the password from the
  // card's env still has to reach the gateway (validate --strict-env fails without it).
  const broker = new Mosquitto({ tls: { ca: ca.cert, cert: server.cert, key: server.key } });
  await broker.start();
  return { dir, broker, ca: ca.cert, hostClient: { ca: ca.cert, cert: host.cert, key: host.key }, gw };
}

/**
 * gateway.yaml for the guest: one sim device (a counter every 200 ms) publishing over
 * mqtts to the host's broker. `buffer.synchronous: normal` is the mode where telling a
 * crash of the process from a reboot matters (src/buffer/startup.ts): after a reboot
 * the last commits may be gone and their seqs are announced lost; after a crash of the
 * process alone nothing is lost and nothing may be announced.
 */
export function gatewayYaml(port: number, extraDevices: string[] = []): string {
  return [
    `gateway: { id: ${GATEWAY_ID}, data_dir: /var/lib/citygate }`,
    'uplink:',
    `  url: "mqtts://10.0.2.2:${port}"`,
    `  username: ${GATEWAY_ID}`,
    '  password: "${MQTT_PASSWORD}"',
    '  tls: { ca: /etc/citygate/ca.pem, cert: /etc/citygate/client.pem, key: /etc/citygate/client.key }',
    '  batch: { max_readings: 50, max_delay: 500ms }',
    'buffer: { synchronous: normal }',
    'health: { interval: 5s }',
    'devices:',
    '  - { id: counter, driver: sim, poll: 200ms, points: [ { name: n, wave: counter } ] }',
    ...extraDevices,
    '',
  ].join('\n');
}

/** Besides the technician's folder: more trusted keys, and files elsewhere on the card. */
export interface CardExtras {
  keys?: { id: string; publicPem: string }[];
  /** [host file, path on the card]; folders are made as needed. */
  files?: [string, string][];
}

/** A fresh boot partition with the technician's citygate/ folder and cmdline.txt entry. */
export function writeCard(file: string, site: Site, bundle: Bundle, yaml: string, extras: CardExtras = {}): BootFs {
  const fs = BootFs.create(file, `${BASE_CMDLINE} ${FIRSTBOOT_CMDLINE}`);
  fs.write('citygate/gateway.yaml', yaml);
  fs.write('citygate/env', `MQTT_PASSWORD=${MQTT_PASSWORD}\n`);
  fs.put(site.ca, 'citygate/ca.pem');
  fs.put(site.gw.cert, 'citygate/client.pem');
  fs.put(site.gw.key, 'citygate/client.key');
  fs.put(bundle.tgz, `citygate/${basename(bundle.tgz)}`);
  // The .sha256 names the bundle by its file name, as build.sh writes it.
  const sha = join(dirname(file), 'bundle.sha256');
  copyFileSync(bundle.sha256, sha);
  fs.put(sha, `citygate/${basename(bundle.tgz)}.sha256`);
  // Signed: the bundle's .sig, and the release key first boot installs and checks it with.
  fs.put(bundle.sig, `citygate/${basename(bundle.tgz)}.sig`);
  fs.mkdir('citygate/keys');
  for (const k of [bundle.key, ...(extras.keys ?? [])]) fs.write(`citygate/keys/${k.id}.pub`, k.publicPem);
  const made = new Set<string>();
  for (const [host, dest] of extras.files ?? []) {
    const parts = dest.split('/').slice(0, -1);
    for (let i = 1; i <= parts.length; i++) {
      const d = parts.slice(0, i).join('/');
      if (!made.has(d)) fs.mkdir(d);
      made.add(d);
    }
    fs.put(host, dest);
  }
  fs.put(join(REPO, 'deploy/firstboot.sh'), 'citygate/firstboot.sh');
  return fs;
}

/**
 * Test certificates, generated with openssl at test time in a temp dir (never
 * committed): a CA, a server certificate for 127.0.0.1 / localhost (subjectAltName,
 * serverAuth) and a client certificate (clientAuth), all signed by that CA. EC P-256
 * keys, so generating them takes milliseconds. `otherCa()` makes an unrelated CA for
 * "wrong CA is refused" tests.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireTool } from './tools.js';
import { tempDir } from './gateway-config.js';

export interface TestCerts {
  dir: string;
  ca: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

function openssl(dir: string, args: string[]): void {
  const r = spawnSync(requireTool('openssl'), args, { cwd: dir, encoding: 'utf8', timeout: 20_000 });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr || r.error?.message}`);
}

const KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** A self-signed CA in `dir` as `<name>.pem` / `<name>.key`. */
export function makeCa(dir: string, name = 'ca', cn = 'citygate test CA'): { cert: string; key: string } {
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}.key`);
  openssl(dir, [
    'req', '-x509', ...KEY, '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${cn}`,
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return { cert, key };
}

/** A leaf certificate signed by the CA, with the given extensions (e.g. subjectAltName=IP:…). */
export function makeLeaf(dir: string, name: string, cn: string, ca: { cert: string; key: string }, ext: string[]): { cert: string; key: string } {
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const extFile = join(dir, `${name}.ext`);
  writeFileSync(extFile, ['basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature,keyAgreement', ...ext, ''].join('\n'));
  openssl(dir, ['req', ...KEY, '-keyout', key, '-out', csr, '-subj', `/CN=${cn}`]);
  const serial = `0x${Date.now().toString(16)}${Math.floor(Math.random() * 0xffff).toString(16)}`;
  openssl(dir, ['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-set_serial', serial, '-out', cert, '-days', '2', '-extfile', extFile]);
  return { cert, key };
}

/** CA + server (127.0.0.1, localhost) + client certificates in a fresh temp dir. */
export function makeTestCerts(clientCn = 'citygate-test-gw'): TestCerts {
  const dir = tempDir('cg-certs-');
  const ca = makeCa(dir);
  const server = makeLeaf(dir, 'server', 'localhost', ca, ['subjectAltName=IP:127.0.0.1,DNS:localhost', 'extendedKeyUsage=serverAuth']);
  const client = makeLeaf(dir, 'client', clientCn, ca, ['extendedKeyUsage=clientAuth']);
  return { dir, ca: ca.cert, caKey: ca.key, serverCert: server.cert, serverKey: server.key, clientCert: client.cert, clientKey: client.key };
}

/** Another client certificate (clientAuth) signed by the same test CA, with CN `cn`: one identity per gateway. */
export function clientCertFor(certs: TestCerts, cn: string): { cert: string; key: string } {
  return makeLeaf(certs.dir, `client-${cn}`, cn, { cert: certs.ca, key: certs.caKey }, ['extendedKeyUsage=clientAuth']);
}

/** An unrelated CA (and a client certificate it signed), for negative tests. */
export function otherCa(dir = tempDir('cg-certs-other-')): { ca: string; clientCert: string; clientKey: string } {
  const ca = makeCa(dir, 'other-ca', 'some other CA');
  const client = makeLeaf(dir, 'other-client', 'intruder', ca, ['extendedKeyUsage=clientAuth']);
  return { ca: ca.cert, clientCert: client.cert, clientKey: client.key };
}

/**
 * Ed25519 signatures over a release's signed manifest (node:crypto, nothing else).
 *
 * Keys are PEM files: the private key PKCS#8 (`<name>.key`, kept by the release
 * engineer, never in the repository or a bundle), the public key SPKI (`<name>.pub`,
 * installed on gateways). A key's id is the first 16 hex digits of the SHA-256 of its
 * SPKI DER bytes (`openssl pkey -pubin -in k.pub -outform DER | sha256sum` gives the same).
 *
 * The signature file, `<bundle>.sig`, beside the bundle, is text so that a shell with
 * openssl can check it too (deploy/firstboot.sh does):
 *
 *   citygate signed manifest 1
 *   signature ed25519 <key id> <base64 signature>     (one or more)
 *   {"format":1,...}                                  the signed manifest: one JSON line
 *
 * What is signed is exactly the bytes of the JSON line (without its newline).
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { UserError } from '../core/errors.js';

export const SIG_HEADER = 'citygate signed manifest 1';
/** A signature file is small; anything bigger is not one. */
export const MAX_SIG_BYTES = 64 * 1024;

export interface SignatureLine {
  keyId: string;
  signature: Buffer;
}

export interface SignatureFile {
  payload: string;
  signatures: SignatureLine[];
}

export function keyId(key: KeyObject): string {
  return createHash('sha256').update(key.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
}

/** A public key from PEM text (or the base64 of its SPKI DER, as a manifest's next_keys carry it). */
export function publicKeyFrom(text: string, where: string): KeyObject {
  let key: KeyObject;
  try {
    key = text.includes('-----BEGIN')
      ? createPublicKey(text)
      : createPublicKey({ key: Buffer.from(text, 'base64'), format: 'der', type: 'spki' });
  } catch (err) {
    throw new UserError(`${where}: not a public key (${(err as Error).message})`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new UserError(`${where}: a ${key.asymmetricKeyType ?? 'non-ed25519'} key; release keys are ed25519`);
  return key;
}

export function privateKeyFrom(pem: string, where: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (err) {
    throw new UserError(`${where}: not a private key (${(err as Error).message})`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new UserError(`${where}: a ${key.asymmetricKeyType ?? 'non-ed25519'} key; release keys are ed25519`);
  return key;
}

/** The base64 SPKI DER form of a public key, one line (what next_keys holds). */
export function publicKeyLine(key: KeyObject): string {
  return key.export({ type: 'spki', format: 'der' }).toString('base64');
}

export function publicKeyPem(key: KeyObject): string {
  return key.export({ type: 'spki', format: 'pem' }).toString();
}

export function generateKeys(): { privatePem: string; publicPem: string; id: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), publicPem: publicKeyPem(publicKey), id: keyId(publicKey) };
}

/** The signature file text for `payload` (one JSON line) signed by each of `keys`. */
export function signPayload(payload: string, keys: KeyObject[]): string {
  if (payload.includes('\n')) throw new Error('the signed manifest must be one line');
  const lines = keys.map((k) => `signature ed25519 ${keyId(createPublicKey(k))} ${sign(null, Buffer.from(payload, 'utf8'), k).toString('base64')}`);
  return `${SIG_HEADER}\n${lines.join('\n')}\n${payload}\n`;
}

/** Parses a signature file; a one-line UserError when it is not one. */
export function parseSignatureFile(text: string, where: string): SignatureFile {
  const lines = text.split('\n').filter((l) => l !== '');
  if (lines[0] !== SIG_HEADER) throw new UserError(`${where}: not a citygate signature file`);
  const signatures: SignatureLine[] = [];
  let payload: string | undefined;
  for (const line of lines.slice(1)) {
    const m = /^signature ed25519 ([0-9a-f]{16}) ([A-Za-z0-9+/=]+)$/.exec(line);
    if (m) signatures.push({ keyId: m[1]!, signature: Buffer.from(m[2]!, 'base64') });
    else if (line.startsWith('{') && payload === undefined) payload = line;
    else throw new UserError(`${where}: unexpected line in the signature file`);
  }
  if (payload === undefined) throw new UserError(`${where}: no signed manifest in the signature file`);
  return { payload, signatures };
}

export function signatureValid(payload: string, s: SignatureLine, key: KeyObject): boolean {
  try {
    return verify(null, Buffer.from(payload, 'utf8'), key, s.signature);
  } catch {
    return false;
  }
}

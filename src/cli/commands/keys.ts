/**
 * `citygate keys …`: the release signing keys (src/release/signature.ts, trust.ts).
 *
 *   keys generate NAME [--out DIR]      NAME.key (private, 0600) and NAME.pub; refuses a
 *                                       directory inside this citygate checkout/install
 *   keys sign BUNDLE --key FILE [--next-key PUB …]
 *                                       writes BUNDLE.sig (deploy/release/build.sh runs it)
 *   keys verify BUNDLE [--keys DIR]     checks BUNDLE.sig against the trusted keys
 *   keys list [--keys DIR]              the trusted keys and their ids
 */
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative, resolve, isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { UserError } from '../../core/errors.js';
import { generateKeys, privateKeyFrom, publicKeyFrom } from '../../release/signature.js';
import { signBundle } from '../../release/signed-manifest.js';
import { DEFAULT_TRUST_DIR, loadTrust } from '../../release/trust.js';
import { stageVerified } from '../../release/verify-bundle.js';
import { outputDir } from '../out-dir.js';

/** The checkout or release this command runs from (src/cli/commands or dist/cli/commands → ../../..). */
const HOME = fileURLToPath(new URL('../../../', import.meta.url));

function inside(dir: string, root: string): boolean {
  const rel = relative(realpathSync(root), dir);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

const out = (line: string) => process.stdout.write(`${line}\n`);

export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('release signing keys: generate a pair, sign a bundle, verify one, list the trusted keys');

  keys
    .command('generate')
    .description('make an ed25519 key pair: NAME.key (private: keep it off gateways and out of any repository) and NAME.pub')
    .argument('<name>', 'file name without extension, e.g. citygate-release-2026')
    .option('--out <dir>', 'where to write them', '.')
    .action((name: string, opts: { out: string }) => {
      if (!/^[\w.-]+$/.test(name)) throw new UserError(`"${name}": use letters, digits, dot, dash and underscore`);
      if (inside(resolve(opts.out), HOME)) throw new UserError(`${resolve(opts.out)} is inside ${HOME}: a private key never goes into the repository or a release (use a directory of its own, e.g. ~/citygate-keys)`);
      outputDir('--out', opts.out, 0o700);
      const dir = realpathSync(resolve(opts.out));
      if (inside(dir, HOME)) throw new UserError(`${dir} is inside ${HOME}: a private key never goes into the repository or a release (use a directory of its own, e.g. ~/citygate-keys)`);
      const [keyFile, pubFile] = [join(dir, `${name}.key`), join(dir, `${name}.pub`)];
      for (const f of [keyFile, pubFile]) if (existsSync(f)) throw new UserError(`${f} exists: not overwritten`);
      const k = generateKeys();
      writeFileSync(keyFile, k.privatePem, { mode: 0o600, flag: 'wx' });
      writeFileSync(pubFile, k.publicPem, { mode: 0o644, flag: 'wx' });
      out(`${keyFile}  private key (0600): sign with it, keep it safe`);
      out(`${pubFile}  public key, id ${k.id}: install it on gateways (/etc/citygate/keys)`);
    });

  keys
    .command('sign')
    .description('sign a release bundle: writes BUNDLE.sig, the manifest pinning its SHA-256, signed')
    .argument('<bundle>', 'citygate-<version>-linux-<arch>.tar.gz')
    .requiredOption('--key <file>', 'the private key (PEM)')
    .option('--next-key <pub...>', 'public key(s) gateways should trust from this release on (rotation)')
    .action(async (bundle: string, opts: { key: string; nextKey?: string[] }) => {
      if (!existsSync(bundle)) throw new UserError(`${bundle}: no such file`);
      if (!existsSync(opts.key)) throw new UserError(`${opts.key}: no such file`);
      const key = privateKeyFrom(readFileSync(opts.key, 'utf8'), opts.key);
      const next = (opts.nextKey ?? []).map((f) => {
        if (!existsSync(f)) throw new UserError(`${f}: no such file`);
        return publicKeyFrom(readFileSync(f, 'utf8'), f);
      });
      const sig = await signBundle(bundle, [key], next);
      out(`${sig}  signed${next.length ? `; names ${next.length} next key(s)` : ''}`);
    });

  keys
    .command('verify')
    .description('check a bundle and its .sig against the trusted keys (what an update does first)')
    .argument('<bundle>', 'citygate-<version>-linux-<arch>.tar.gz')
    .option('--keys <dir>', 'the trusted keys', DEFAULT_TRUST_DIR)
    .option('--arch <arch>', 'the gateway architecture to check for (arm64, arm, x64)', process.arch)
    .action(async (bundle: string, opts: { keys: string; arch: string }) => {
      const scratch = mkdtempSync(join(tmpdir(), 'citygate-verify-'));
      try {
        const v = await stageVerified(bundle, scratch, { trust: loadTrust(opts.keys), arch: opts.arch });
        v.remove();
        out(`${basename(bundle)}: good signature by key ${v.keyId}; citygate ${v.manifest.version} (${v.manifest.id}), signed ${v.manifest.signed_at}`);
      } finally {
        rmSync(scratch, { recursive: true, force: true });
      }
    });

  keys
    .command('list')
    .description('the keys this gateway trusts for updates')
    .option('--keys <dir>', 'the trusted keys', DEFAULT_TRUST_DIR)
    .action((opts: { keys: string }) => {
      const t = loadTrust(opts.keys);
      for (const k of t.keys.values()) out(`${k.id}  ${k.file}`);
      for (const s of t.skipped) out(`not trusted: ${s}`);
      if (t.keys.size === 0) out(`no trusted keys in ${t.dir}: every update will be refused`);
    });
}

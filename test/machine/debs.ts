/**
 * Debian packages the machine test adds to a running guest (the base image stays as
 * image.sh makes it): fetched on the host with `apt-get download` from the host's own
 * Debian sources into the cache beside the base image, sent through the agent, installed
 * with dpkg. The host and the guest are both bookworm amd64.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Vm } from './vm.js';

const CACHE = join(process.env.CITYGATE_MACHINE_CACHE ?? '/var/cache/citygate-machine', 'debs');

/** Installs `pkgs` (names as apt knows them, dependencies listed too) in the guest. */
export async function installDebs(vm: Vm, pkgs: string[]): Promise<void> {
  mkdirSync(CACHE, { recursive: true });
  const have = (p: string): string | undefined => readdirSync(CACHE).find((f) => f.startsWith(`${p}_`) && f.endsWith('.deb'));
  const missing = pkgs.filter((p) => !have(p));
  if (missing.length > 0) execFileSync('apt-get', ['download', ...missing], { cwd: CACHE, stdio: 'ignore', timeout: 300_000 });
  const files: string[] = [];
  for (const p of pkgs) {
    const f = have(p);
    if (!f || !existsSync(join(CACHE, f))) throw new Error(`apt-get download ${p} left no .deb in ${CACHE}`);
    const b64 = readFileSync(join(CACHE, f)).toString('base64');
    await vm.run(`mkdir -p /root/debs && base64 -d > /root/debs/${f} <<'__DEB__'\n${b64}\n__DEB__`, 120_000);
    files.push(`/root/debs/${f}`);
  }
  await vm.run(`dpkg -i ${files.join(' ')}`, 300_000);
}

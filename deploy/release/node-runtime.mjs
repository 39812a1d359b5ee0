#!/usr/bin/env node
// Checks and unpacks a Node.js runtime tarball the builder supplies for a release bundle
// (deploy/release/build.sh --node; the armv7 bundle needs one: Node 24 has no armv7l build
// and the npm registry's newest armv7l package is older than `engines`).
//
//   node node-runtime.mjs --tarball node-v22.x.y-linux-armv7l.tar.xz --shasums SHASUMS256.txt \
//        --arch armv7l --engines '<package.json engines.node>' --out DIR
//
// Refuses, with a message a technician can act on (exit 2), unless:
//   1. the tarball's SHA-256 is the one SHASUMS256.txt (the Node.js project's list for that
//      release) gives for its file name;
//   2. it has the official layout: one top folder node-v<version>-linux-<arch>/ holding
//      bin/node, include/node/node_version.h and LICENSE;
//   3. bin/node is an ELF executable for the target (read from its header: 32-bit ARM is
//      class 1, e_machine 40; arm64 class 2, e_machine 183; x64 class 2, e_machine 62);
//   4. its version (include/node/node_version.h) satisfies `engines`.
// On success: the runtime unpacked as DIR (bin/, include/, LICENSE, …) and its version on stdout.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export const ELF_TARGETS = {
  armv7l: { cls: 1, machine: 40, name: '32-bit ARM (armv7l)' },
  arm64: { cls: 2, machine: 183, name: '64-bit ARM (arm64)' },
  x64: { cls: 2, machine: 62, name: 'x86-64 (x64)' },
};
const MACHINES = { 3: 'x86', 40: 'ARM', 62: 'x86-64', 183: 'ARM aarch64', 243: 'RISC-V' };

export class Refused extends Error {}

/** What a Node binary was built for, from its ELF header. */
export function elfTarget(file) {
  const head = Buffer.alloc(20);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, head, 0, 20, 0);
  } finally {
    closeSync(fd);
  }
  if (head.readUInt32BE(0) !== 0x7f454c46) return undefined;
  const little = head[5] === 1;
  return { cls: head[4], machine: little ? head.readUInt16LE(18) : head.readUInt16BE(18) };
}

export function describeElf(t) {
  if (!t) return 'not an ELF executable';
  return `${t.cls === 1 ? '32' : '64'}-bit ${MACHINES[t.machine] ?? `e_machine ${t.machine}`}`;
}

/** Does version `v` ([major, minor, patch]) satisfy `range` ("^20.19.0 || ^22.12.0 || >=24")? */
export function satisfies(v, range) {
  const cmp = (a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
  return range.split('||').some((alt) => {
    const m = /^\s*(\^|>=)?\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?\s*$/.exec(alt);
    if (!m) throw new Refused(`engines range "${alt.trim()}" is not one this check reads (^M.m.p or >=M.m.p)`);
    const want = [Number(m[2]), Number(m[3] ?? 0), Number(m[4] ?? 0)];
    if (m[1] === '>=') return cmp(v, want) >= 0;
    if (m[1] === '^') return v[0] === want[0] && cmp(v, want) >= 0;
    return cmp(v, want) === 0;
  });
}

export function sha256Of(file) {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** The SHA-256 SHASUMS256.txt lists for `name`; refuses when it lists none. */
export function listedSum(shasums, name) {
  for (const line of readFileSync(shasums, 'utf8').split('\n')) {
    const m = /^([0-9a-f]{64})\s+\*?(\S+)\s*$/i.exec(line);
    if (m && m[2] === name) return m[1].toLowerCase();
  }
  throw new Refused(`${basename(shasums)} lists no ${name}: take the SHASUMS256.txt of the same Node.js release as the tarball`);
}

export function nodeVersion(dir) {
  const h = join(dir, 'include/node/node_version.h');
  if (!existsSync(h)) throw new Refused(`${h} is missing: not an official Node.js binary tarball (node-v<version>-linux-<arch>.tar.xz)`);
  const text = readFileSync(h, 'utf8');
  const part = (p) => Number(new RegExp(`#define NODE_${p}_VERSION (\\d+)`).exec(text)?.[1]);
  const v = [part('MAJOR'), part('MINOR'), part('PATCH')];
  if (v.some((n) => !Number.isInteger(n))) throw new Refused(`${h} holds no version`);
  return v;
}

export function checkRuntime({ tarball, shasums, arch, engines, out }) {
  const target = ELF_TARGETS[arch];
  if (!target) throw new Refused(`unknown architecture "${arch}" (armv7l, arm64, x64)`);
  if (!existsSync(tarball)) throw new Refused(`${tarball}: no such file`);
  if (!existsSync(shasums)) throw new Refused(`${shasums}: no such file — put the release's SHASUMS256.txt beside the tarball, or name it with --shasums`);
  const name = basename(tarball);
  const want = listedSum(shasums, name);
  const got = sha256Of(tarball);
  if (got !== want) throw new Refused(`${name}: checksum mismatch — SHASUMS256.txt says ${want}, the file is ${got}: a damaged or different download; nothing was built`);
  const scratch = mkdtempSync(join(dirname(out), '.node-runtime-'));
  try {
    execFileSync('tar', ['-C', scratch, '--no-same-owner', '-xf', tarball], { stdio: ['ignore', 'ignore', 'pipe'] });
    const top = readdirSync(scratch);
    if (top.length !== 1) throw new Refused(`${name}: expected one top folder (node-v<version>-linux-${arch}/), found ${top.length}`);
    const dir = join(scratch, top[0]);
    for (const f of ['bin/node', 'LICENSE']) if (!existsSync(join(dir, f))) throw new Refused(`${name}: ${top[0]}/${f} is missing: not an official Node.js binary tarball`);
    const elf = elfTarget(join(dir, 'bin/node'));
    if (!elf || elf.cls !== target.cls || elf.machine !== target.machine) {
      throw new Refused(`${name}: bin/node is ${describeElf(elf)}, not ${target.name}: take the linux-${arch} tarball`);
    }
    const v = nodeVersion(dir);
    if (!satisfies(v, engines)) throw new Refused(`${name}: Node.js ${v.join('.')} does not satisfy engines "${engines}" in package.json: take a newer release (Node.js 22 for armv7)`);
    rmSync(out, { recursive: true, force: true });
    renameSync(dir, out);
    return v.join('.');
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function main(argv) {
  const o = {};
  for (let i = 0; i < argv.length; i += 2) o[argv[i].replace(/^--/, '')] = argv[i + 1];
  for (const k of ['tarball', 'arch', 'engines', 'out']) if (!o[k]) throw new Refused(`--${k} is required`);
  o.shasums ??= join(dirname(o.tarball), 'SHASUMS256.txt');
  process.stdout.write(`${checkRuntime(o)}\n`);
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  try {
    main(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`build.sh: ${err instanceof Refused ? err.message : String(err)}\n`);
    process.exit(2);
  }
}

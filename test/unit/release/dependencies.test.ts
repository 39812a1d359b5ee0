/**
 * package.json tells the truth about what an installed citygate needs: every package
 * src/ imports or requires is a runtime dependency, and every runtime dependency is
 * used by src/. Test-only and build-only packages (tsx, jsmodbus …) stay in
 * devDependencies, so a production install (`npm ci --omit=dev`, the release bundle)
 * carries nothing it never loads.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtinModules } from 'node:module';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  files: string[];
};

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Package names loaded at run time: static and dynamic imports, require(); `import type` excluded. */
function packagesUsedBy(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [
    ...text.matchAll(/^\s*import\s+(?!type\b)[^'"]*?from\s+'([^'.][^']*)'/gm),
    ...text.matchAll(/^\s*export\s+(?!type\b)[^'"]*?from\s+'([^'.][^']*)'/gm),
    ...text.matchAll(/\bimport\(\s*'([^'.][^']*)'\s*\)(?!\.)/g),
    ...text.matchAll(/\brequire\(\s*'([^'.][^']*)'\s*\)/g),
  ].map((m) => m[1]!);
  return specifiers
    .filter((s) => !s.startsWith('node:') && !builtinModules.includes(s))
    .map((s) => (s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]!));
}

describe('package.json dependencies', () => {
  const used = new Map<string, string>();
  for (const file of sources(join(ROOT, 'src'))) for (const p of packagesUsedBy(file)) used.set(p, file.slice(ROOT.length));

  it('declares every package src/ loads as a runtime dependency', () => {
    const undeclared = [...used].filter(([p]) => !(p in pkg.dependencies)).map(([p, f]) => `${p} (${f})`);
    expect(undeclared).toEqual([]);
  });

  it('has no runtime dependency src/ never loads', () => {
    expect(Object.keys(pkg.dependencies).filter((p) => !used.has(p))).toEqual([]);
  });

  it('keeps the TypeScript loader and test peers out of the runtime dependencies', () => {
    for (const dev of ['tsx', 'jsmodbus', 'typescript', 'vitest']) expect(pkg.dependencies).not.toHaveProperty(dev);
  });

  it('ships the compiled code, not the sources or the tests', () => {
    expect(pkg.files).toEqual(expect.arrayContaining(['bin/', 'dist/', 'boards/', 'deploy/']));
    for (const f of pkg.files) expect(f).not.toMatch(/^(src|test|bench)\b/);
  });
});

/** The walls between layers (docs/architecture.md): no folder loops, core imports nothing above it. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../../src/', import.meta.url));

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** folder → folders it imports from (relative imports only, type imports included). */
function folderGraph(): Map<string, Set<string>> {
  const g = new Map<string, Set<string>>();
  for (const f of files(SRC)) {
    const from = relative(SRC, f).split('/')[0]!;
    for (const m of readFileSync(f, 'utf8').matchAll(/from\s+'(\.{1,2}\/[^']+)'/g)) {
      const to = relative(SRC, resolve(dirname(f), m[1]!)).split('/')[0]!;
      if (to === from || to.startsWith('..')) continue;
      if (!g.has(from)) g.set(from, new Set());
      g.get(from)!.add(to);
    }
  }
  return g;
}

describe('layers', () => {
  it('core imports nothing above it', () => {
    expect([...(folderGraph().get('core') ?? [])]).toEqual([]);
  });

  it('drivers never import config, buffer, uplink or runtime', () => {
    const offenders: string[] = [];
    for (const f of files(join(SRC, 'drivers'))) {
      for (const m of readFileSync(f, 'utf8').matchAll(/from\s+'(\.{1,2}\/[^']+)'/g)) {
        const to = relative(SRC, resolve(dirname(f), m[1]!)).split('/')[0]!;
        if (['config', 'buffer', 'uplink', 'runtime'].includes(to)) offenders.push(`${relative(SRC, f)} → ${m[1]}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('no new folder loops (config ⇄ drivers is gone); none at all', () => {
    const g = folderGraph();
    const loops: string[] = [];
    for (const [a, tos] of g) for (const b of tos) if (a < b && g.get(b)?.has(a)) loops.push(`${a} ⇄ ${b}`);
    // The payload types live in core (src/core/payloads.ts); Home Assistant declares the
    // slice of config it reads. No folder imports a folder that imports it back.
    expect(loops.sort()).toEqual([]);
  });
});

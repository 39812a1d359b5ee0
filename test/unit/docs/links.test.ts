/**
 * The repository stands alone: comments and docs cite docs/architecture.md and
 * docs/field-notes.md by anchor, every cited anchor exists, and nothing points at design
 * notes kept outside the repository.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const SCANNED = ['src', 'test', 'bench', 'deploy', 'boards', 'docs', 'README.md'];
const TEXT = /\.(ts|js|md|yaml|yml|py|service|sh)$/;

function files(path: string): string[] {
  const st = statSync(path);
  if (st.isFile()) return TEXT.test(path) ? [path] : [];
  return readdirSync(path).flatMap((n) => (n === 'node_modules' ? [] : files(join(path, n))));
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
const slug = (heading: string): string =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s-]/gu, '')
    .replace(/\s/g, '-');

function anchors(doc: string): Set<string> {
  const text = readFileSync(join(ROOT, doc), 'utf8');
  return new Set([...text.matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) => slug(m[1] as string)));
}

const all = SCANNED.flatMap((p) => files(join(ROOT, p)));

describe('docs stand alone', () => {
  it('every cited anchor of docs/architecture.md and docs/field-notes.md exists', () => {
    const known: Record<string, Set<string>> = {
      'architecture.md': anchors('docs/architecture.md'),
      'field-notes.md': anchors('docs/field-notes.md'),
    };
    const broken: string[] = [];
    let cited = 0;
    for (const f of all) {
      const text = readFileSync(f, 'utf8');
      for (const m of text.matchAll(/(architecture|field-notes)\.md#([a-z0-9-]+)/g)) {
        cited++;
        if (!known[`${m[1]}.md`]?.has(m[2] as string)) broken.push(`${relative(ROOT, f)}: ${m[0]}`);
      }
    }
    expect(broken).toEqual([]);
    expect(cited).toBeGreaterThan(30);
  });

  it('nothing points at design notes outside the repository', () => {
    // built from parts so this file does not match itself
    const outside = new RegExp(['FIELD' + '-NOTES', 'DESIGN' + '\\.md', 'STYLE' + '\\.md', '\\.\\./' + 'shared'].join('|'));
    const hits = all.filter((f) => outside.test(readFileSync(f, 'utf8'))).map((f) => relative(ROOT, f));
    expect(hits).toEqual([]);
  });
});

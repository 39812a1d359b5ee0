/**
 * The YAML layer of config loading: parse with a line counter, turn the YAML library's
 * failures into `line:col` problems that say what to do, and expand aliases with a cap
 * (an alias bomb is a config error, not a crash; so is an alias with no anchor).
 *
 * `${ENV}` references are written unquoted in flow maps (`gateway: { id: ${GATEWAY_ID} }`),
 * where `{`, `}`, `[`, `]` and `,` are YAML syntax. Before parsing, those characters
 * inside a reference are swapped for private-use stand-ins of the same length (offsets,
 * and so every line and column, stay true); `restoreEnvRef` swaps them back before
 * substitution.
 */
import { LineCounter, parseDocument, visit, type Document, type Node } from 'yaml';

/** `!secret name`: resolved later by substitute(), so parsing keeps the name. */
export const secretTag = { tag: '!secret', resolve: (str: string): string => str };

export interface YamlProblem {
  line: number;
  col: number;
  message: string;
}

const REF = /\$\{[A-Za-z_][A-Za-z0-9_]*(?::-[^}\n]*)?\}/g;
const SWAP: Record<string, string> = { '{': '\uE000', '}': '\uE001', '[': '\uE002', ']': '\uE003', ',': '\uE004' };
const UNSWAP = Object.fromEntries(Object.entries(SWAP).map(([k, v]) => [v, k]));

export function restoreEnvRef(s: string): string {
  return /[\uE000-\uE004]/.test(s) ? s.replace(/[\uE000-\uE004]/g, (c) => UNSWAP[c] ?? c) : s;
}

export interface ParsedYaml {
  doc: Document;
  at(offset: number): { line: number; col: number };
  problems: YamlProblem[];
}

export function parseConfigYaml(text: string): ParsedYaml {
  const lc = new LineCounter();
  const protectedText = text.replace(REF, (ref) => ref.replace(/[{}[\],]/g, (c) => SWAP[c] ?? c));
  const doc = parseDocument(protectedText, { lineCounter: lc, customTags: [secretTag], prettyErrors: false, uniqueKeys: true, merge: true });
  const at = (offset: number): { line: number; col: number } => {
    const p = lc.linePos(offset);
    return { line: p.line, col: p.col };
  };
  const problems: YamlProblem[] = [];
  // A syntax error usually drags more after it; the first one is the one to fix.
  let syntaxShown = false;
  let syntaxMore = 0;
  for (const e of doc.errors) {
    if (e.code === 'DUPLICATE_KEY') {
      problems.push({ ...at(e.pos[0]), message: duplicateKeyMessage(doc, e.pos[0], at) });
    } else if (!syntaxShown) {
      syntaxShown = true;
      problems.push({ ...at(e.pos[0]), message: `YAML syntax error: ${firstLine(e.message)}${hint(e.code)}` });
    } else syntaxMore++;
  }
  const first = problems.find((p) => p.message.startsWith('YAML syntax'));
  if (first && syntaxMore) first.message += ` (${syntaxMore} more YAML error${syntaxMore === 1 ? '' : 's'} after it, usually caused by this one)`;
  problems.sort((a, b) => a.line - b.line || a.col - b.col);
  return { doc, at, problems };
}

/** The document as plain data; an alias bomb becomes a problem at its first alias. */
export function toData(parsed: ParsedYaml): { data: unknown; problem?: YamlProblem } {
  const unknown = unknownAlias(parsed);
  if (unknown) return { data: undefined, problem: unknown };
  try {
    return { data: parsed.doc.toJS({ maxAliasCount: 100 }) ?? {} };
  } catch (err) {
    let firstAlias: Node | undefined;
    visit(parsed.doc, {
      Alias(_k, node) {
        firstAlias = node;
        return visit.BREAK;
      },
    });
    const pos = firstAlias?.range ? parsed.at(firstAlias.range[0]) : { line: 1, col: 1 };
    const msg = err instanceof Error ? err.message : String(err);
    return {
      data: undefined,
      problem: /alias/i.test(msg)
        ? { ...pos, message: 'YAML aliases (*name) here expand to too many nodes (an "alias bomb") — write the values out, or use fewer nested aliases' }
        : { ...pos, message: `YAML could not be read: ${firstLine(msg)}` },
    };
  }
}

/** The first alias (*name) with no anchor (&name) set before it: a typo, or an anchor defined later. */
function unknownAlias(parsed: ParsedYaml): YamlProblem | undefined {
  let found: YamlProblem | undefined;
  visit(parsed.doc, {
    Alias(_k, node) {
      if (node.resolve(parsed.doc) !== undefined) return undefined;
      const pos = node.range ? parsed.at(node.range[0]) : { line: 1, col: 1 };
      const anchors: string[] = [];
      visit(parsed.doc, {
        Node(_k2, n) {
          if (n.anchor) anchors.push(n.anchor);
        },
      });
      const known = anchors.length ? ` (anchors in this file: ${anchors.map((a) => `&${a}`).join(', ')})` : ' (this file sets no anchor)';
      found = { ...pos, message: `unknown YAML alias *${node.source}: no anchor &${node.source} is set before it${known} — check the spelling, or set the anchor above its first use` };
      return visit.BREAK;
    },
  });
  return found;
}

function duplicateKeyMessage(doc: Document, offset: number, at: (o: number) => { line: number; col: number }): string {
  let key: string | undefined;
  let first: number | undefined;
  visit(doc, {
    Map(_k, map) {
      const seen = new Map<unknown, number>();
      for (const pair of map.items) {
        const k = pair.key as (Node & { value?: unknown }) | null;
        const r = k?.range;
        if (!k || !r) continue;
        const name = k.value ?? String(k);
        if (r[0] === offset && seen.has(name)) {
          key = String(name);
          first = seen.get(name);
          return visit.BREAK;
        }
        if (!seen.has(name)) seen.set(name, r[0]);
      }
      return undefined;
    },
  });
  if (key === undefined) return 'a key appears twice in the same map — keep one';
  const where = first === undefined ? '' : ` (first on line ${at(first).line})`;
  return `key "${key}" appears twice in the same map${where} — keep one; YAML would use only one of them`;
}

function firstLine(msg: string): string {
  return (msg.split('\n')[0] ?? '').replace(/ at line \d+, column \d+.*$/, '');
}

function hint(code: string): string {
  if (code === 'BAD_INDENT' || code === 'MISSING_CHAR') return ' — check the indentation: keys of one map line up in the same column, with spaces (no tabs)';
  if (code === 'TAB_AS_INDENT') return ' — indent with spaces, not tabs';
  return '';
}


/**
 * Where `${ENV}` and `!secret` may resolve: only in fields the schema marks as a
 * credential (passwords, tokens, user names, TLS files) or an address (broker URLs,
 * hosts, ports, serial devices, listen addresses). The mark is zod metadata
 * (`substitution: 'credential' | 'address'`), set with `credential()` / `address()`
 * (src/core/secret-mark.ts) where the field is declared: one source of truth for `validate`, `run`, reloads and
 * the editor schema. Anywhere else a reference is a config error — a point's `value:` or
 * `unit:` would otherwise publish the secret in every data message.
 *
 * A mark on an object or list covers everything inside it (`uplink.tls`, `health.auth`).
 */
import type { z } from 'zod';
import { def, unwrap } from './schema-walk.js';
import type { SubstitutionKind } from '../core/secret-mark.js';

export { address, credential, type SubstitutionKind } from '../core/secret-mark.js';


/** The mark on this schema or any wrapper layer of it (optional, default, pipe…). */
function markOf(s: z.ZodType): SubstitutionKind | undefined {
  for (let cur: z.ZodType | undefined = s, n = 0; cur && n < 20; n++) {
    const kind = (cur.meta() as { substitution?: SubstitutionKind } | undefined)?.substitution;
    if (kind) return kind;
    const d = def(cur);
    if (d.innerType && ['optional', 'default', 'prefault', 'nullable', 'readonly', 'catch'].includes(d.type)) cur = d.innerType;
    else if (d.type === 'pipe' && d.in) cur = d.in;
    else cur = undefined;
  }
  return undefined;
}

/** The option of a discriminated union that `data` selects. */
function pick(s: z.ZodType, data: unknown): z.ZodType {
  const d = def(s);
  if (d.type !== 'union' || !d.options || !d.discriminator || !data || typeof data !== 'object') return s;
  const want = (data as Record<string, unknown>)[d.discriminator];
  const key = d.discriminator;
  return d.options.find((o) => def(unwrap(def(unwrap(o)).shape?.[key] ?? o)).values?.includes(want)) ?? s;
}

/**
 * The mark that covers `path` in `root` (the field's own, or an ancestor's), following
 * `data` to pick a driver's or bus type's schema; undefined where nothing may resolve.
 */
export function substitutionAt(root: z.ZodType, path: readonly PropertyKey[], data: unknown): SubstitutionKind | undefined {
  let s: z.ZodType | undefined = root;
  let cur: unknown = data;
  for (let i = 0; ; i++) {
    if (!s) return undefined;
    const mark = markOf(s);
    if (mark) return mark;
    if (i === path.length) return undefined;
    const key = path[i] as PropertyKey;
    const u = pick(unwrap(s), cur);
    const d = def(unwrap(u));
    if (d.type === 'object') s = d.shape?.[String(key)];
    else if (d.type === 'array') s = d.element;
    else if (d.type === 'record') s = d.valueType;
    else return undefined;
    cur = cur && typeof cur === 'object' ? (cur as Record<PropertyKey, unknown>)[key] : undefined;
  }
}

/** Every marked key path in `root`, e.g. `uplink.password`, `buses.<name>.host` (for messages and docs). */
export function markedPaths(root: z.ZodType, kind?: SubstitutionKind): string[] {
  const out = new Set<string>();
  const walk = (s: z.ZodType, path: string, depth: number): void => {
    if (depth > 12) return;
    const mark = markOf(s);
    if (mark) {
      if (!kind || mark === kind) out.add(path);
      return;
    }
    const d = def(unwrap(s));
    if (d.type === 'object' && d.shape) for (const [k, v] of Object.entries(d.shape)) walk(v, path ? `${path}.${k}` : k, depth + 1);
    else if (d.type === 'array' && d.element) walk(d.element, `${path}[]`, depth + 1);
    else if (d.type === 'record' && d.valueType) walk(d.valueType, `${path}.<name>`, depth + 1);
    else if (d.type === 'union' && d.options) for (const o of d.options) walk(o, path, depth + 1);
  };
  walk(root, '', 0);
  return [...out].sort();
}

/**
 * `${ENV}` values take the type of their field: the environment only holds strings,
 * so `baud: ${BAUD:-9600}` arrives as "9600". Where the field's schema refuses the
 * string but accepts the same text read as a YAML number or boolean, that is used.
 * Fields whose variable is unset (a warning in `validate`) are reported, so the caller
 * can skip the schema's complaints about a value nobody has supplied yet.
 */
import { isMap, isPair, isScalar, isSeq, parse, type Document, type Node, type Scalar } from 'yaml';
import type { z } from 'zod';
import { schemaAt } from './schema-walk.js';

export type Path = PropertyKey[];

/** The data path of every scalar in the document. */
export function scalarPaths(doc: Document): Map<Scalar, Path> {
  const out = new Map<Scalar, Path>();
  const walk = (node: unknown, path: Path): void => {
    if (isScalar(node)) out.set(node, path);
    else if (isMap(node)) {
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const key = isScalar(pair.key) ? pair.key.value : pair.key;
        if (typeof key === 'string' || typeof key === 'number') walk(pair.value, [...path, key]);
      }
    } else if (isSeq(node)) node.items.forEach((item, i) => walk(item as Node, [...path, i]));
  };
  walk(doc.contents, []);
  return out;
}

export function typeEnvValues(
  schema: z.ZodType,
  data: unknown,
  envNodes: readonly { node: Scalar; unset: boolean }[],
  paths: Map<Scalar, Path>,
): { unset: Path[] } {
  const unset: Path[] = [];
  for (const { node, unset: isUnset } of envNodes) {
    const path = paths.get(node);
    if (!path || path.length === 0) continue;
    if (isUnset) {
      unset.push(path);
      continue;
    }
    const parent = valueAt(data, path.slice(0, -1));
    const key = path[path.length - 1] as PropertyKey;
    if (!parent || typeof parent !== 'object') continue;
    const text = (parent as Record<PropertyKey, unknown>)[key];
    if (typeof text !== 'string') continue;
    const field = schemaAt(schema, path, data);
    if (!field || field.safeParse(text).success) continue;
    let typed: unknown;
    try {
      typed = parse(text);
    } catch {
      continue;
    }
    if (typeof typed !== 'number' && typeof typed !== 'boolean') continue;
    // Use the typed value when the field takes that type, even if this value is out of
    // range: "must be at most 921600, got 1000000" says more than "got "1000000"".
    const r = field.safeParse(typed);
    if (r.success || !r.error.issues.some((i) => i.code === 'invalid_type' && i.path.length === 0)) {
      (parent as Record<PropertyKey, unknown>)[key] = typed;
    }
  }
  return { unset };
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let cur = data;
  for (const k of path) cur = cur && typeof cur === 'object' ? (cur as Record<PropertyKey, unknown>)[k] : undefined;
  return cur;
}

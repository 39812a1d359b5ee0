/**
 * Finds the zod schema that governs a config path, so error messages can list the
 * keys or values that would have been right. Reads zod 4's internal `_zod.def`
 * (stable across 4.x; there is no public API for walking a schema).
 */
import type { z } from 'zod';

export interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  valueType?: z.ZodType;
  innerType?: z.ZodType;
  in?: z.ZodType;
  options?: z.ZodType[];
  discriminator?: string;
  values?: unknown[];
}

export function def(s: z.ZodType): Def {
  return (s as unknown as { _zod: { def: Def } })._zod.def;
}

/** Strip optional/default/prefault/nullable/pipe wrappers. */
export function unwrap(s: z.ZodType): z.ZodType {
  for (;;) {
    const d = def(s);
    if (d.innerType && ['optional', 'default', 'prefault', 'nullable', 'readonly', 'catch'].includes(d.type)) s = d.innerType;
    else if (d.type === 'pipe' && d.in) s = d.in;
    else return s;
  }
}

/** The option of a discriminated union that `data` selects, if any. */
function pickOption(s: z.ZodType, data: unknown): z.ZodType | undefined {
  const d = def(s);
  if (d.type !== 'union' || !d.options) return undefined;
  const key = d.discriminator;
  if (!key || typeof data !== 'object' || data === null) return undefined;
  const want = (data as Record<string, unknown>)[key];
  return d.options.find((o) => {
    const shape = def(unwrap(o)).shape;
    const lit = shape?.[key];
    return lit !== undefined && def(unwrap(lit)).values?.includes(want);
  });
}

/** The schema at `path` within `root`, following the data to pick union options. */
export function schemaAt(root: z.ZodType, path: readonly PropertyKey[], data: unknown): z.ZodType | undefined {
  let s: z.ZodType | undefined = unwrap(root);
  let cur: unknown = data;
  for (const key of path) {
    if (!s) return undefined;
    s = unwrap(pickOption(s, cur) ?? s);
    const d = def(s);
    if (d.type === 'object') s = d.shape?.[String(key)];
    else if (d.type === 'array') s = d.element;
    else if (d.type === 'record') s = d.valueType;
    else return undefined;
    cur = cur && typeof cur === 'object' ? (cur as Record<PropertyKey, unknown>)[key] : undefined;
    if (s) s = unwrap(s);
  }
  if (s) s = unwrap(pickOption(s, cur) ?? s);
  return s;
}

/** Keys an object schema accepts (empty if not an object). */
export function knownKeys(s: z.ZodType | undefined): string[] {
  if (!s) return [];
  const d = def(unwrap(s));
  return d.type === 'object' && d.shape ? Object.keys(d.shape) : [];
}

/** The discriminator values a union accepts at this schema, e.g. driver names. */
export function unionValues(s: z.ZodType | undefined): { key: string; values: string[] } | undefined {
  if (!s) return undefined;
  const d = def(unwrap(s));
  if (d.type !== 'union' || !d.discriminator || !d.options) return undefined;
  const key = d.discriminator;
  const values = d.options.flatMap((o) => {
    const lit = def(unwrap(o)).shape?.[key];
    return lit ? (def(unwrap(lit)).values ?? []).map(String) : [];
  });
  return { key, values };
}

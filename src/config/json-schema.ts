/**
 * The JSON Schema editors use (yaml-language-server), generated from the one zod
 * schema and then adjusted so the editor and `citygate validate` agree:
 * - in the fields marked as credentials or addresses (src/config/secret-fields.ts), and
 *   only there, a typed value (number, boolean, a patterned or enumerated string) may
 *   instead be a `${ENV}` reference, as `validate` accepts (it types the value after
 *   substitution); the mark itself is not part of the output;
 * - top-level `x-` keys are allowed: the place for YAML anchors used with merge keys;
 * - each device and bus option carries its driver's one-line description, so
 *   completion after `driver:` says what each one is;
 * - hover text ends with the default, where there is one.
 * Rules that depend on other keys come from each schema's `.meta({ allOf: [if/then] })`.
 */
import { z } from 'zod';

type Json = Record<string, unknown>;

export const ENV_REF_PATTERN = '\\$\\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\\}';
const envRef: Json = { type: 'string', pattern: ENV_REF_PATTERN, description: '${ENV} reference, typed when substituted' };

export interface Described {
  name: string;
  description: string;
}

export function editorSchema(schema: z.ZodType, opts: { drivers: readonly Described[]; buses: readonly Described[] }): Json {
  const js = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Json;
  walk(js, [], false);
  const props = js.properties as Record<string, Json>;
  describeOptions((props.devices?.items as Json | undefined)?.oneOf, 'driver', opts.drivers);
  describeOptions((props.buses?.additionalProperties as Json | undefined)?.oneOf, 'type', opts.buses);
  js.patternProperties = { '^x-': { description: 'Ignored by citygate: a place for YAML anchors (x-meter: &meter {…}, then <<: *meter).' } };
  return { ...js, title: 'citygate gateway configuration', $id: 'citygate.schema.json' };
}

/** Discriminator keys stay plain, so completion offers exactly the driver and bus names. */
const DISCRIMINATORS = new Set(['driver', 'type']);

/** True when this node carries the substitution mark (which is removed from it). */
function takeMark(node: Json): boolean {
  if (!('substitution' in node)) return false;
  delete node.substitution;
  return true;
}

function walk(node: Json, path: string[], inMarked: boolean): void {
  const marked = takeMark(node) || inMarked;
  const props = node.properties as Record<string, Json> | undefined;
  if (props) {
    for (const [k, v] of Object.entries(props)) {
      const vMarked = 'substitution' in v || marked;
      walk(v, [...path, k], marked);
      if (vMarked && (!DISCRIMINATORS.has(k) || !('const' in v))) props[k] = allowEnv(v);
    }
  }
  for (const key of ['items', 'additionalProperties'] as const) {
    const child = node[key];
    if (child && typeof child === 'object' && !Array.isArray(child)) {
      const cMarked = 'substitution' in (child as Json) || marked;
      walk(child as Json, path, marked);
      if (key === 'items' && cMarked) node.items = allowEnv(child as Json);
    }
  }
  for (const key of ['anyOf', 'oneOf', 'allOf', 'prefixItems'] as const) {
    const list = node[key];
    if (Array.isArray(list)) list.forEach((c: Json) => walk(c, path, marked));
  }
  withDefault(node);
}

/** True for a schema that refuses some strings: it needs the ${ENV} alternative. */
function typed(s: Json): boolean {
  if (Array.isArray(s.anyOf)) return (s.anyOf as Json[]).every(typed);
  if (s.type === 'string') return 'pattern' in s || 'enum' in s || 'const' in s;
  return s.type === 'number' || s.type === 'integer' || s.type === 'boolean' || s.type === 'array';
}

function allowEnv(s: Json): Json {
  if (!typed(s) || s.type === 'array') return s;
  const { description, default: dflt, markdownDescription, ...rest } = s;
  const meta: Json = {};
  if (description !== undefined) meta.description = description;
  if (markdownDescription !== undefined) meta.markdownDescription = markdownDescription;
  if (dflt !== undefined) meta.default = dflt;
  const alternatives = Array.isArray(rest.anyOf) && Object.keys(rest).length === 1 ? (rest.anyOf as Json[]) : [rest];
  return { ...meta, anyOf: [...alternatives, envRef] };
}

function withDefault(s: Json): void {
  if (s.default === undefined || typeof s.description !== 'string') return;
  if (typeof s.default === 'object' && s.default !== null) return;
  if (/\bdefault\b/i.test(s.description)) return;
  s.description = `${s.description} Default: ${JSON.stringify(s.default)}.`;
}

function describeOptions(options: unknown, key: string, defs: readonly Described[]): void {
  if (!Array.isArray(options)) return;
  for (const o of options as Json[]) {
    const lit = (o.properties as Record<string, Json> | undefined)?.[key];
    const def = defs.find((d) => d.name === lit?.const);
    if (!def || !lit) continue;
    o.title = `${key}: ${def.name}`;
    o.description = def.description;
    lit.description = def.description;
  }
}

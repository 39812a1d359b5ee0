/**
 * Turns zod issues into messages a person can act on: what is wrong, what would be
 * right, and a did-you-mean where a typo is likely.
 */
import type { z } from 'zod';
import { didYouMean } from '../core/suggest.js';
import { knownKeys, schemaAt, unionValues } from './schema-walk.js';

export interface PathMessage {
  path: PropertyKey[];
  /** When set, point at this key of the object at `path` rather than the object. */
  key?: string;
  message: string;
}

/** Longer strings are cut in messages: a whole paragraph (or a file's worth) helps nobody. */
const SHOW_CHARS = 60;

const show = (v: unknown): string => {
  if (v === undefined) return 'nothing';
  if (typeof v === 'string') return v.length > SHOW_CHARS ? `${JSON.stringify(v.slice(0, SHOW_CHARS))}… (${v.length} characters)` : JSON.stringify(v);
  if (Array.isArray(v)) return 'a list';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'a map';
  return String(v);
};

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let cur = data;
  for (const k of path) cur = cur && typeof cur === 'object' ? (cur as Record<PropertyKey, unknown>)[k] : undefined;
  return cur;
}

/** zod's type names in the words of a YAML file. */
const KIND: Record<string, string> = {
  record: 'a map of names to settings',
  object: 'a map of key: value',
  array: 'a list',
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
};

function fixFor(expected: string, input: unknown): string {
  if ((expected === 'record' || expected === 'object') && Array.isArray(input)) return ' — drop the "- " in front of the entries (a list) and write name: value lines';
  if (expected === 'array' && input && typeof input === 'object') return ' — start each entry with "- "';
  if ((expected === 'number' || expected === 'int') && typeof input === 'string' && input.trim() !== '' && !Number.isNaN(Number(input))) return ' — remove the quotes';
  return '';
}

export function explainIssues(schema: z.ZodType, issues: readonly z.core.$ZodIssue[], data: unknown): PathMessage[] {
  const out: PathMessage[] = [];
  for (const issue of issues) {
    const path = [...issue.path];
    const input = valueAt(data, path);
    switch (issue.code) {
      case 'unrecognized_keys': {
        const keys = knownKeys(schemaAt(schema, path, data));
        for (const k of issue.keys) {
          const guess = didYouMean(k, keys);
          out.push({
            path,
            key: k,
            message: `unknown key "${k}"${guess ? ` — did you mean "${guess}"?` : keys.length ? ` — expected one of: ${keys.join(', ')}` : ''}`,
          });
        }
        break;
      }
      case 'invalid_union': {
        const disc = (issue as { discriminator?: string }).discriminator;
        const parentPath = disc ? path.slice(0, -1) : path;
        const parent = valueAt(data, parentPath);
        const uv = unionValues(schemaAt(schema, parentPath, data));
        if (disc && uv) {
          const got = (parent as Record<string, unknown> | undefined)?.[disc];
          const guess = typeof got === 'string' ? didYouMean(got, uv.values) : undefined;
          out.push({
            path: [...parentPath, disc],
            message:
              got === undefined
                ? `missing "${disc}" — expected one of: ${uv.values.join(', ')}`
                : `unknown ${disc} ${show(got)}${guess ? ` — did you mean "${guess}"?` : ` — expected one of: ${uv.values.join(', ')}`}`,
          });
        } else {
          // A union of literals (e.g. protocol_version 4 | 5): list what is allowed.
          const nested = (issue as { errors?: { code: string; values?: unknown[] }[][] }).errors ?? [];
          const values = nested.flatMap((alt) => (alt.length === 1 && alt[0]?.code === 'invalid_value' ? (alt[0].values ?? []) : []));
          out.push({
            path,
            message:
              values.length === nested.length && values.length > 0
                ? `expected ${values.map((v) => JSON.stringify(v)).join(' or ')}, got ${show(input)}`
                : / got |, got$| — /.test(issue.message)
                  ? issue.message
                  : `${issue.message}, got ${show(input)}`,
          });
        }
        break;
      }
      case 'invalid_type':
        out.push({
          path,
          message:
            input === undefined
              ? `missing required key "${String(path[path.length - 1] ?? '')}"`
              : issue.message.startsWith('expected a') || issue.message.includes(' — ')
                ? issue.message
                : `expected ${KIND[issue.expected] ?? issue.expected}, got ${show(input)}${fixFor(issue.expected, input)}`,
        });
        break;
      case 'invalid_value': {
        if (!issue.message.startsWith('Invalid')) {
          out.push({ path, message: issue.message }); // the schema's own words
          break;
        }
        const values = issue.values.map((v) => JSON.stringify(v));
        const guess = typeof input === 'string' ? didYouMean(input, issue.values.map(String)) : undefined;
        out.push({
          path,
          message:
            input === undefined
              ? `missing required key "${String(path[path.length - 1] ?? '')}" — expected ${values.length === 1 ? values[0] : `one of: ${values.join(', ')}`}`
              : `${show(input)} is not allowed${guess ? ` — did you mean "${guess}"?` : ` — expected ${values.length === 1 ? values[0] : `one of: ${values.join(', ')}`}`}`,
        });
        break;
      }
      case 'too_small':
      case 'too_big': {
        // A schema's own message (e.g. a BCM pin hint) says more than ours.
        if (!/^Too (small|big)/.test(issue.message)) {
          out.push({ path, message: issue.message });
          break;
        }
        const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
        const rel = issue.code === 'too_small' ? 'at least' : 'at most';
        if (issue.origin === 'array' && Array.isArray(input)) {
          out.push({ path, message: `needs ${rel} ${String(bound)} item${bound === 1 ? '' : 's'}, got ${input.length}` });
        } else if (issue.origin === 'string' && typeof input === 'string') {
          out.push({ path, message: `must be ${rel} ${String(bound)} characters long, got ${input.length}` });
        } else {
          out.push({ path, message: `must be ${rel} ${String(bound)}, got ${show(input)}` });
        }
        break;
      }
      default:
        out.push({ path, message: issue.message });
    }
  }
  return out;
}

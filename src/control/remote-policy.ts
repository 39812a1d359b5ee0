/**
 * What a remote config may change (pure). The running gateway's own file decides, in
 * `commands.config.remote_may_change`; a new config is judged by the policy of the config
 * in force before it, never by the policy it brings (no right widens itself).
 *
 * The two texts are compared as written, before any `${ENV}` or `!secret` resolves, key
 * by key. A change is refused when
 *  - no entry of the policy covers its key (`devices` covers `devices[3].poll`);
 *  - its key is a credential (src/config/secret-fields.ts), the uplink's address or the
 *    policy itself (`commands.config`) — whatever the policy says;
 *  - its new value holds a `${ENV}` or `!secret` reference: only the gateway's own file
 *    may bring in values from the environment or secrets.yaml;
 *  - it points a serial port (an address field holding a path) outside /dev/: a device
 *    reading a regular file would publish its lines (secrets.yaml, the env file) as data.
 * Unchanged keys are never judged: a remote config repeats `password: ${MQTT_PASSWORD}`
 * from the file it replaces, and that is no change.
 */
import { posix } from 'node:path';
import { visit } from 'yaml';
import { configSchema } from '../config/schema.js';
import { formatPath } from '../config/issues.js';
import { substitutionAt } from '../config/secret-fields.js';
import { parseConfigYaml, restoreEnvRef, toData } from '../config/yaml-doc.js';

/** Keys no remote config changes, whatever the policy lists. */
const LOCAL_ONLY: readonly (readonly string[])[] = [['commands', 'config'], ['uplink', 'url'], ['uplink', 'tls'], ['health', 'auth'], ['commands', 'update', 'ca']];
const POLICY_KEY = 'commands.config.remote_may_change';
const SECRET_MARK = '\uE010!secret ';
const REFERENCE = /\$\{[A-Za-z_]|^\uE010!secret /;

type Path = (string | number)[];

/** The text as plain data with every reference left as written (`!secret x` kept visible). */
function rawData(text: string): unknown {
  const parsed = parseConfigYaml(text);
  if (parsed.problems.length) return undefined;
  visit(parsed.doc, {
    Scalar(_k, node) {
      if (node.tag === '!secret') {
        node.value = `${SECRET_MARK}${String(node.value)}`;
        node.tag = undefined;
      } else if (typeof node.value === 'string') node.value = restoreEnvRef(node.value);
    },
  });
  const data = toData(parsed).data;
  if (!data || typeof data !== 'object' || Array.isArray(data)) return data;
  return Object.fromEntries(Object.entries(data).filter(([k]) => !k.startsWith('x-')));
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** Every key whose value differs: maps and lists of maps key by key, other values whole. */
function changedPaths(a: unknown, b: unknown, path: Path, out: Path[]): void {
  if (same(a, b)) return;
  const am = isMap(a) || a === undefined;
  const bm = isMap(b) || b === undefined;
  if (am && bm && (isMap(a) || isMap(b))) {
    const ka = isMap(a) ? a : {};
    const kb = isMap(b) ? b : {};
    for (const k of new Set([...Object.keys(ka), ...Object.keys(kb)])) changedPaths(ka[k], kb[k], [...path, k], out);
    return;
  }
  const objects = (v: unknown): boolean => Array.isArray(v) && v.some(isMap);
  const al = Array.isArray(a) || a === undefined;
  const bl = Array.isArray(b) || b === undefined;
  if (al && bl && (objects(a) || objects(b))) {
    const la = Array.isArray(a) ? (a as unknown[]) : [];
    const lb = Array.isArray(b) ? (b as unknown[]) : [];
    for (let i = 0; i < Math.max(la.length, lb.length); i++) changedPaths(la[i], lb[i], [...path, i], out);
    return;
  }
  out.push(path);
}

function holdsReference(v: unknown): boolean {
  if (typeof v === 'string') return REFERENCE.test(v);
  if (Array.isArray(v)) return v.some(holdsReference);
  if (isMap(v)) return Object.values(v).some(holdsReference);
  return false;
}

const outsideDev = (v: unknown): boolean => typeof v === 'string' && v.startsWith('/') && !posix.normalize(v).startsWith('/dev/');

function valueAt(data: unknown, path: Path): unknown {
  let cur = data;
  for (const k of path) cur = cur && typeof cur === 'object' ? (cur as Record<string | number, unknown>)[k] : undefined;
  return cur;
}

const under = (path: Path, prefix: readonly string[]): boolean => prefix.every((k, i) => String(path[i]) === k) && path.length >= prefix.length;
/** The prefix relation both ways: a change to `commands` as a whole touches `commands.config`. */
const touches = (path: Path, prefix: readonly string[]): boolean => under(path, prefix) || prefix.slice(0, path.length).every((k, i) => String(path[i]) === k);

/**
 * Refusals, one line per changed key the policy does not allow (empty: allowed). `policy`
 * is `commands.config.remote_may_change` of the config in force.
 */
export function remoteChangeRefusals(currentText: string, nextText: string, policy: readonly string[]): string[] {
  const before = rawData(currentText);
  const after = rawData(nextText);
  // Unreadable YAML never applies: validation reports it with its line and column.
  if (after === undefined) return [];
  const paths: Path[] = [];
  changedPaths(before, after, [], paths);
  const allowed = policy.map((p) => p.split('.'));
  const refusals: string[] = [];
  for (const path of paths) {
    const key = formatPath(path);
    const local = LOCAL_ONLY.some((p) => touches(path, p)) || substitutionAt(configSchema, path, after) === 'credential';
    if (local) {
      refusals.push(`refused: ${key} may not be changed remotely — the uplink's address, credentials and TLS, health.auth, commands.update.ca and ${POLICY_KEY} change only in the gateway's own file`);
    } else if (holdsReference(valueAt(after, path))) {
      refusals.push(`refused: ${key} may not be set remotely to a \${ENV} or !secret reference — only the gateway's own file may resolve them`);
    } else if (outsideDev(valueAt(after, path)) && substitutionAt(configSchema, path, after) === 'address') {
      refusals.push(`refused: ${key} may not be set remotely to a path outside /dev/ — only the gateway's own file may name other files`);
    } else if (!allowed.some((p) => under(path, p))) {
      refusals.push(`refused: ${key} may not be changed remotely (${POLICY_KEY}: [${policy.join(', ')}])`);
    }
  }
  return refusals;
}

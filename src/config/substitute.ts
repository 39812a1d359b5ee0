/**
 * `${ENV}` substitution and `!secret name` lookups, done on the YAML tree so every
 * problem keeps its line and column. Substituted values are remembered so that no
 * error message ever echoes them (a password in an error is a leaked password).
 *
 * - `${NAME}` → the environment variable; `${NAME:-fallback}` when unset; `$${` is a
 *   literal `${`.
 * - `!secret name` → key `name` in `secrets.yaml` beside the config file (the file's own
 *   directory, whatever the working directory). That file must not be readable by group
 *   or others (chmod 600), or it is refused.
 * - `placement` decides where a reference may resolve (src/config/secret-fields.ts);
 *   a reference anywhere else is a problem and is left unresolved, so its value is
 *   never read into the config at all.
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isScalar, parse, visit, type Document, type Scalar } from 'yaml';
import { restoreEnvRef } from './yaml-doc.js';

export interface SubstitutionProblem {
  node: Scalar;
  message: string;
  /** Missing environment variables are warnings where the caller allows it. */
  kind: 'env' | 'secret' | 'placement';
}

export interface SubstitutionResult {
  problems: SubstitutionProblem[];
  /** Values that came from secrets or the environment: never print them. */
  sensitive: string[];
  /** Scalars whose value came from `${ENV}`; `unset` when a variable had no value. */
  envNodes: { node: Scalar; unset: boolean }[];
}

const ENV_REF = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;
/** The first real reference in a value (`$${` is an escape, not a reference). */
const ENV_REF_ONE = /(?<!\$)\$\{[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\}/;

/** Says why `ref` (`${NAME}` or `!secret name`) may not resolve in this scalar, or undefined when it may. */
export type Placement = (node: Scalar, ref: string) => string | undefined;

export function substitute(doc: Document, configFile: string, env: NodeJS.ProcessEnv, placement?: Placement): SubstitutionResult {
  const problems: SubstitutionProblem[] = [];
  const sensitive: string[] = [];
  const envNodes: { node: Scalar; unset: boolean }[] = [];
  let secrets: Record<string, unknown> | undefined;
  let secretsError: string | undefined;
  const secretsFile = join(dirname(configFile), 'secrets.yaml');

  const loadSecrets = (): void => {
    if (secrets || secretsError) return;
    try {
      const st = statSync(secretsFile);
      if ((st.mode & 0o077) !== 0) {
        secretsError = `${secretsFile} can be read by other users (mode ${(st.mode & 0o777).toString(8)}) — run: chmod 600 ${secretsFile}`;
        return;
      }
      const parsed: unknown = parse(readFileSync(secretsFile, 'utf8'));
      secrets = parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      secretsError =
        code === 'ENOENT'
          ? `!secret needs ${secretsFile} (a YAML map of name: value, chmod 600), which does not exist`
          : `cannot read ${secretsFile}: ${code ?? 'invalid YAML'}`;
    }
  };

  visit(doc, {
    Scalar(_key, node) {
      if (node.tag === '!secret') {
        const name = String(node.value);
        const refused = placement?.(node, `!secret ${name}`);
        if (refused) {
          problems.push({ node, message: refused, kind: 'placement' });
          node.tag = undefined;
          return;
        }
        loadSecrets();
        if (secretsError) problems.push({ node, message: secretsError, kind: 'secret' });
        else if (secrets && name in secrets) {
          const v = secrets[name];
          node.value = typeof v === 'string' ? v : String(v);
          sensitive.push(String(node.value));
        } else problems.push({ node, message: `secret "${name}" is not defined in ${secretsFile}`, kind: 'secret' });
        node.tag = undefined;
        return;
      }
      if (typeof node.value !== 'string' || !node.value.includes('$')) return;
      const first = ENV_REF_ONE.exec(restoreEnvRef(node.value));
      const refused = first ? placement?.(node, first[0]) : undefined;
      if (refused) {
        problems.push({ node, message: refused, kind: 'placement' });
        return;
      }
      let refs = 0;
      let unset = false;
      node.value = restoreEnvRef(node.value).replace(ENV_REF, (whole, name: string | undefined, fallback: string | undefined) => {
        if (name === undefined) return '${';
        refs++;
        const v = env[name];
        if (v !== undefined && v !== '') {
          sensitive.push(v);
          return v;
        }
        if (fallback !== undefined) return fallback;
        unset = true;
        problems.push({ node, message: `environment variable ${name} is not set (${whole})`, kind: 'env' });
        return '';
      });
      if (refs) envNodes.push({ node, unset });
    },
  });
  return { problems, sensitive: sensitive.filter((s) => s.length >= 3), envNodes };
}

/** Replace every sensitive value in `text` by [redacted]. */
export function redact(text: string, sensitive: readonly string[]): string {
  let out = text;
  for (const s of sensitive) out = out.split(s).join('[redacted]');
  return out;
}


export { isScalar };

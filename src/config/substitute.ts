/**
 * `${ENV}` substitution and `!secret name` lookups, done on the YAML tree so every
 * problem keeps its line and column. Substituted values are remembered so that no
 * error message ever echoes them (a password in an error is a leaked password).
 *
 * - `${NAME}` → the environment variable; `${NAME:-fallback}` when unset; `$${` is a
 *   literal `${`.
 * - `!secret name` → key `name` in `secrets.yaml` beside the config file. That file
 *   must not be readable by group or others (chmod 600), or it is refused.
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isScalar, parse, visit, type Document, type Scalar } from 'yaml';
import { restoreEnvRef } from './yaml-doc.js';

export interface SubstitutionProblem {
  node: Scalar;
  message: string;
  /** Missing environment variables are warnings where the caller allows it. */
  kind: 'env' | 'secret';
}

export interface SubstitutionResult {
  problems: SubstitutionProblem[];
  /** Values that came from secrets or the environment: never print them. */
  sensitive: string[];
  /** Scalars whose value came from `${ENV}`; `unset` when a variable had no value. */
  envNodes: { node: Scalar; unset: boolean }[];
}

const ENV_REF = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export function substitute(doc: Document, configFile: string, env: NodeJS.ProcessEnv): SubstitutionResult {
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
        loadSecrets();
        const name = String(node.value);
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

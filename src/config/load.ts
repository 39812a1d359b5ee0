/**
 * Loading a gateway config: YAML with a line and column for every node, `${ENV}` and
 * `!secret` substitution, the one schema, cross-field checks, and every problem at
 * once as `file:line:col: path: message`. The entry points:
 * - `checkConfigText()` — pure-ish: text in, config and issues out (validate, tests);
 * - `loadConfigFile()` — for `run`: throws ConfigError on any problem.
 */
import { readFileSync } from 'node:fs';
import { LineCounter, YAMLMap, isMap, isNode, parseDocument, type Document, type Node } from 'yaml';
import { configSchema, type GatewayConfig } from './schema.js';
import { ConfigError, formatPath, type ConfigIssue } from './issues.js';
import { redact, secretTag, substitute } from './substitute.js';
import { explainIssues, type PathMessage } from './zod-issues.js';
import { crossCheck } from './crosscheck.js';
import { UserError } from '../core/errors.js';

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** 'warn' (validate on a workstation) or 'error' (run). Default 'error'. */
  missingEnv?: 'warn' | 'error';
}

export interface CheckResult {
  config?: GatewayConfig;
  issues: ConfigIssue[];
  warnings: ConfigIssue[];
}

export function checkConfigText(text: string, file: string, opts: LoadOptions = {}): CheckResult {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, customTags: [secretTag], prettyErrors: false, uniqueKeys: true });
  const at = (offset: number): { line: number; col: number } => {
    const p = lc.linePos(offset);
    return { line: p.line, col: p.col };
  };
  const issues: ConfigIssue[] = [];
  const warnings: ConfigIssue[] = [];

  for (const e of doc.errors) issues.push({ file, ...at(e.pos[0]), path: '', message: yamlMessage(e.message) });
  if (issues.length) return { issues, warnings };

  const sub = substitute(doc, file, opts.env ?? process.env);
  for (const p of sub.problems) {
    const issue = { file, ...at(p.node.range?.[0] ?? 0), path: '', message: p.message };
    if (p.kind === 'env' && opts.missingEnv === 'warn') warnings.push(issue);
    else issues.push(issue);
  }

  const data: unknown = doc.toJS({ maxAliasCount: 100 }) ?? {};
  const place = (m: PathMessage): ConfigIssue => ({
    file,
    ...locate(doc, m.path, m.key, at),
    path: formatPath(m.key ? [...m.path, m.key] : m.path),
    message: redact(m.message, sub.sensitive),
  });

  const parsed = configSchema.safeParse(data, { reportInput: true });
  if (!parsed.success) {
    issues.push(...explainIssues(configSchema, parsed.error.issues, data).map(place));
    return { issues: sortIssues(issues), warnings };
  }
  issues.push(...crossCheck(parsed.data).map(place));
  warnings.push(...securityWarnings(parsed.data).map(place));
  return issues.length ? { issues: sortIssues(issues), warnings } : { config: parsed.data, issues, warnings };
}

export function loadConfigFile(file: string, opts: LoadOptions = {}): { config: GatewayConfig; warnings: ConfigIssue[] } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(
      code === 'ENOENT' ? `config file ${file} does not exist` : `cannot read config file ${file} (${code ?? 'unknown error'})`,
      code === 'EACCES' ? ['Run as the citygate user, or check the file permissions (ls -l).'] : [],
    );
  }
  const r = checkConfigText(text, file, opts);
  if (!r.config) throw new ConfigError(file, r.issues);
  return { config: r.config, warnings: r.warnings };
}

/** Plain-text MQTT to a host that is not loopback puts city data on the wire in clear. */
function securityWarnings(c: GatewayConfig): PathMessage[] {
  const u = new URL(c.uplink.url);
  const plain = u.protocol === 'mqtt:' || u.protocol === 'ws:';
  const loopback = /^(127\.|localhost$|\[::1\]$)/.test(u.hostname) || u.hostname === '::1';
  if (plain && !loopback && !c.uplink.allow_insecure) {
    return [{ path: ['uplink', 'url'], message: `${u.protocol}// to ${u.hostname} sends city data and credentials unencrypted — use mqtts:// or wss:// (or set allow_insecure: true on a closed network)` }];
  }
  return [];
}

function locate(
  doc: Document,
  path: readonly PropertyKey[],
  key: string | undefined,
  at: (o: number) => { line: number; col: number },
): { line: number; col: number } {
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n) as unknown[], true);
    if (!isNode(node)) continue;
    if (n === path.length && key && isMap(node)) {
      const pair = (node as YAMLMap).items.find((p) => isNode(p.key) && (p.key as { value?: unknown }).value === key);
      const k = pair?.key as Node | undefined;
      if (k?.range) return at(k.range[0]);
    }
    if (n < path.length && isMap(node)) {
      // Missing key: point at the map that should hold it.
      const r = (node as Node).range;
      if (r) return at(r[0]);
    }
    const r = (node as Node).range;
    if (r) return at(r[0]);
  }
  return { line: 1, col: 1 };
}

function sortIssues(issues: ConfigIssue[]): ConfigIssue[] {
  return [...issues].sort((a, b) => a.line - b.line || a.col - b.col);
}

function yamlMessage(msg: string): string {
  // yaml's messages end with a source excerpt after a colon-newline; keep the first line.
  return `YAML syntax error: ${msg.split('\n')[0]?.replace(/ at line \d+, column \d+.*$/, '')}`;
}

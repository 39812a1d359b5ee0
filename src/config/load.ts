/**
 * Loading a gateway config: YAML with a line and column for every node, `${ENV}` and
 * `!secret` substitution, the one schema, cross-field checks, and every problem at
 * once as `file:line:col: path: message`. The entry points:
 * - `checkConfigText()` — pure-ish: text in, config and issues out (validate, tests);
 * - `loadConfigFile()` — for `run`: throws ConfigError on any problem.
 */
import { readFileSync } from 'node:fs';
import { YAMLMap, isMap, isNode, type Document, type Node, type Scalar } from 'yaml';
import { busSchema, configSchema, deviceSchema, uplinkSchema, type DeviceConfig, type GatewayConfig, type UplinkConfig } from './schema.js';
import { ConfigError, formatPath, type ConfigIssue } from './issues.js';
import { redact, substitute } from './substitute.js';
import { explainIssues, type PathMessage } from './zod-issues.js';
import { diskBudgetWarning } from '../buffer/disk-guard.js';
import { crossCheck, type PartialConfig } from './crosscheck.js';
import { parseConfigYaml, toData } from './yaml-doc.js';
import { scalarPaths, typeEnvValues } from './env-values.js';
import { UserError } from '../core/errors.js';
import { markedPaths, substitutionAt } from './secret-fields.js';
import { configFileTooLarge, MAX_CONFIG_BYTES, tooLargeMessage } from './size-limit.js';
import { notTextProblem } from './text-check.js';

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** 'warn' (validate on a workstation) or 'error' (run). Default 'error'. */
  missingEnv?: 'warn' | 'error';
  /**
   * The config file's real path, when `file` is only the name to show in messages:
   * `!secret` reads secrets.yaml from this path's directory (not the working directory).
   */
  path?: string;
}

export interface CheckResult {
  config?: GatewayConfig;
  issues: ConfigIssue[];
  warnings: ConfigIssue[];
}

export function checkConfigText(fileText: string, file: string, opts: LoadOptions = {}): CheckResult {
  // A byte-order mark (Windows editors write one) is not part of line 1: columns count as an editor shows them.
  const text = fileText.charCodeAt(0) === 0xfeff ? fileText.slice(1) : fileText;
  const bytes = Buffer.byteLength(text);
  if (bytes > MAX_CONFIG_BYTES) return { issues: [{ file, line: 1, col: 1, path: '', message: `this config ${tooLargeMessage(bytes)}` }], warnings: [] };
  const notText = notTextProblem(text);
  if (notText) return { issues: [{ file, path: '', ...notText }], warnings: [] };
  const yaml = parseConfigYaml(text);
  const { doc, at } = yaml;
  const issues: ConfigIssue[] = [];
  const warnings: ConfigIssue[] = [];
  for (const p of yaml.problems) issues.push({ file, line: p.line, col: p.col, path: '', message: p.message });
  if (issues.length) return { issues, warnings };

  const paths = scalarPaths(doc);
  const before = toData(yaml).data;
  if (doc.contents === null) {
    return { issues: [{ file, line: 1, col: 1, path: '', message: 'this config is empty (or only comments): it needs gateway:, uplink: and devices: — start from a file in boards/ (boards/demo.yaml runs without hardware)' }], warnings };
  }
  const refused: PropertyKey[][] = [];
  const placement = (node: Scalar, ref: string): string | undefined => {
    const path = paths.get(node);
    if (path && path.length > 0 && !String(path[0]).startsWith('x-') && substitutionAt(configSchema, path, before)) return undefined;
    if (path) refused.push(path);
    return `${path && path.length ? `${formatPath(path)}: ` : ''}${ref} is not resolved here — \${ENV} and !secret resolve only in credential and address fields (${markedPaths(configSchema).join(', ')}); write this value out in the file`;
  };
  const sub = substitute(doc, opts.path ?? file, opts.env ?? process.env, placement);
  const warnEnv = opts.missingEnv === 'warn';
  for (const p of sub.problems) {
    const issue = { file, ...at(p.node.range?.[0] ?? 0), path: '', message: p.message };
    if (p.kind === 'env' && warnEnv) warnings.push(issue);
    else issues.push(issue);
  }

  const read = toData(yaml);
  if (read.problem) return { issues: [...issues, { file, ...read.problem, path: '' }], warnings };
  const data = withoutExtensions(read.data);
  const { unset } = typeEnvValues(configSchema, data, sub.envNodes, paths);
  const place = (m: PathMessage): ConfigIssue => ({
    file,
    ...locate(doc, m.path, m.key, at),
    path: formatPath(m.key ? [...m.path, m.key] : m.path),
    message: redact(m.message, sub.sensitive),
  });
  // A field whose variable is unset has no value yet: in validate that is the warning
  // already given, not also a schema error.
  // A refused reference was left as written: the schema's view of it adds nothing.
  const supplied = (m: PathMessage): boolean =>
    !refused.some((u) => startsWith(m.path, u)) && (!warnEnv || !unset.some((u) => startsWith(m.path, u)));

  const parsed = configSchema.safeParse(data, { reportInput: true });
  if (!parsed.success) issues.push(...explainIssues(configSchema, parsed.error.issues, data).filter(supplied).map(place));
  const cross = crossCheck(parsed.success ? fromParsed(parsed.data) : partialConfig(data));
  // Where the schema already complained about a spot, that complaint is enough.
  const said = new Set(issues.map((i) => i.path));
  issues.push(...cross.errors.map(place).filter((i) => !said.has(i.path)));
  warnings.push(...cross.warnings.map(place));
  const uplink = parsed.success ? parsed.data.uplink : uplinkSchema.safeParse(field(data, 'uplink')).data;
  if (uplink) issues.push(...insecureUplink(uplink).map(place));
  const config = parsed.success && issues.length === 0 ? parsed.data : undefined;
  // Disk full is a state, but one to plan for: say when max_bytes cannot fit on this machine.
  const disk = config ? diskBudgetWarning(config.gateway.data_dir, config.buffer.max_bytes) : undefined;
  if (disk) warnings.push(place({ path: ['buffer', 'max_bytes'], message: disk }));
  return { ...(config ? { config } : {}), issues: sortIssues(issues), warnings: sortIssues(warnings) };
}

/**
 * Top-level keys starting with `x-` are ignored: a place to keep YAML anchors for merge
 * keys (`x-meter: &meter { … }` then `<<: *meter`), as docker-compose files do.
 */
function withoutExtensions(data: unknown): unknown {
  if (!data || typeof data !== 'object' || Array.isArray(data)) return data;
  return Object.fromEntries(Object.entries(data).filter(([k]) => !k.startsWith('x-')));
}

/** Every part of a config that failed the whole-file schema, parsed on its own. */
function partialConfig(data: unknown): PartialConfig {
  const buses = field(data, 'buses');
  const devices = field(data, 'devices');
  return {
    buses: Object.fromEntries(
      Object.entries(buses && typeof buses === 'object' && !Array.isArray(buses) ? buses : {}).map(([name, raw]) => {
        const r = busSchema.safeParse(raw);
        return [name, r.success ? { raw, parsed: r.data } : { raw }];
      }),
    ),
    devices: (Array.isArray(devices) ? devices : []).map((raw: unknown) => {
      const r = deviceSchema.safeParse(raw);
      return r.success ? { raw, parsed: r.data as DeviceConfig } : { raw };
    }),
  };
}

function fromParsed(c: GatewayConfig): PartialConfig {
  return {
    buses: Object.fromEntries(Object.entries(c.buses).map(([name, b]) => [name, { raw: b, parsed: b as { type: string } & Record<string, unknown> }])),
    devices: c.devices.map((d) => ({ raw: d, parsed: d as DeviceConfig })),
  };
}

const field = (v: unknown, k: string): unknown => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined);

function startsWith(path: readonly PropertyKey[], prefix: readonly PropertyKey[]): boolean {
  return prefix.length <= path.length && prefix.every((k, i) => String(path[i]) === String(k));
}

export function loadConfigFile(file: string, opts: LoadOptions = {}): { config: GatewayConfig; warnings: ConfigIssue[] } {
  let text: string;
  const tooLarge = configFileTooLarge(file);
  if (tooLarge) throw new UserError(`config file ${file} ${tooLarge}`);
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(
      code === 'ENOENT' ? `config file ${file} does not exist` : `cannot read config file ${file} (${code ?? 'unknown error'})`,
      code === 'EACCES' ? ['Run as the citygate user, or check the file permissions (ls -l).'] : [],
    );
  }
  const r = checkConfigText(text, file, { ...opts, path: opts.path ?? file });
  // No config and no errors: fields whose ${ENV} variable is unset could not be checked.
  if (!r.config) throw new ConfigError(file, r.issues.length ? r.issues : r.warnings);
  return { config: r.config, warnings: r.warnings };
}

/**
 * Plain-text MQTT to a host that is not loopback puts city data and the broker password
 * on the wire in clear: an error, unless `uplink.allow_insecure: true` says the network
 * is closed.
 */
function insecureUplink(uplink: UplinkConfig): PathMessage[] {
  const single = typeof uplink.url === 'string';
  return (typeof uplink.url === 'string' ? [uplink.url] : uplink.url).flatMap((url, i): PathMessage[] => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return []; // the schema already said what is wrong with it
    }
    const plain = u.protocol === 'mqtt:' || u.protocol === 'ws:';
    const loopback = /^(127\.|localhost$|\[::1\]$)/.test(u.hostname) || u.hostname === '::1';
    if (plain && !loopback && !uplink.allow_insecure) {
      return [{ path: single ? ['uplink', 'url'] : ['uplink', 'url', i], message: `${u.protocol}// to ${u.hostname} would send city data and credentials unencrypted — use mqtts:// or wss://, or set uplink.allow_insecure: true on a closed network` }];
    }
    return [];
  });
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


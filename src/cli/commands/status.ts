/**
 * `citygate status`: a running gateway's health, as a table (from its status page).
 * A page behind `health.auth` is read with the login from the config (when it is
 * readable here), or from CITYGATE_STATUS_TOKEN / --token-file, or --user with
 * CITYGATE_STATUS_PASSWORD / --password-file. Secrets never come from argv (every user
 * of the machine can read a process's arguments) and never appear in a message.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { HealthPayload } from '../../uplink/topics.js';
import type { HttpAuth } from '../../health/http-auth.js';
import { formatBytes } from '../../core/units.js';
import { DEFAULT_CONFIG, readConfig, withConfig } from '../config-arg.js';
import { UserError } from '../../core/errors.js';
import { table } from '../table.js';

const DEFAULT_STATUS = '127.0.0.1:8787';
const HOW_TO_LOGIN =
  'give the token in CITYGATE_STATUS_TOKEN or --token-file FILE, or the basic-auth user with --user NAME and its password in CITYGATE_STATUS_PASSWORD or --password-file FILE; or run as a user who can read the config (sudo citygate status), which uses its health.auth';

interface Target {
  url: string;
  /** health.auth of the config, when the config could be read. */
  auth?: HttpAuth | undefined;
}

/**
 * Where the status page is: health.http of the config. The installed config is often
 * readable by the service user only; a technician without sudo still gets the status
 * of a gateway on the default address.
 */
function statusTarget(configFile: string): Target {
  let http: string | false;
  let auth: HttpAuth | undefined;
  try {
    const health = readConfig(configFile).health;
    http = health.http;
    auth = health.auth;
  } catch (err) {
    const code = (err as { message?: string }).message ?? '';
    if (configFile === DEFAULT_CONFIG && /cannot read|does not exist/.test(code)) {
      process.stderr.write(`(${configFile} is not readable here: trying the default status page ${DEFAULT_STATUS}; pass --url otherwise)\n`);
      return { url: `http://${DEFAULT_STATUS}` };
    }
    throw err;
  }
  if (http === false) throw new UserError('the status page is disabled (health.http: false) — enable it, or pass --url');
  return { url: `http://${http.replace(/^0\.0\.0\.0:/, '127.0.0.1:')}`, auth };
}

function secretFile(file: string, flag: string): string {
  try {
    const text = readFileSync(file, 'utf8').trim();
    if (text === '') throw new UserError(`${flag} ${file} is empty`);
    return text;
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`${flag}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

interface LoginOptions {
  tokenFile?: string;
  user?: string;
  passwordFile?: string;
}

/** The Authorization header to send, if any: flags and environment first, then the config's health.auth. */
export function authorizationHeader(opts: LoginOptions, env: NodeJS.ProcessEnv, configAuth?: HttpAuth): string | undefined {
  const token = opts.tokenFile ? secretFile(opts.tokenFile, '--token-file') : env.CITYGATE_STATUS_TOKEN || undefined;
  if (token) return `Bearer ${token}`;
  if (opts.user !== undefined) {
    const password = opts.passwordFile ? secretFile(opts.passwordFile, '--password-file') : env.CITYGATE_STATUS_PASSWORD;
    if (!password) throw new UserError(`--user ${opts.user}: give the password in CITYGATE_STATUS_PASSWORD or --password-file FILE (never on the command line)`);
    return `Basic ${Buffer.from(`${opts.user}:${password}`).toString('base64')}`;
  }
  if (configAuth?.token) return `Bearer ${configAuth.token}`;
  if (configAuth?.username && configAuth.password) return `Basic ${Buffer.from(`${configAuth.username}:${configAuth.password}`).toString('base64')}`;
  return undefined;
}

async function fetchHealth(base: string, authorization: string | undefined): Promise<HealthPayload> {
  let res: Response;
  try {
    res = await fetch(`${base.replace(/\/$/, '')}/health`, {
      signal: AbortSignal.timeout(5000),
      ...(authorization ? { headers: { authorization } } : {}),
    });
  } catch {
    // Not a user mistake but a state of the machine: exit 2, like other runtime failures.
    throw new Error(`no gateway answering at ${base} — is it running? (systemctl status citygate; journalctl -u citygate -n 50)`);
  }
  if (res.status === 401 || res.status === 403) {
    await res.body?.cancel();
    throw new UserError(
      authorization
        ? `the status page at ${base} refused the login (HTTP ${res.status}) — check the token, or the user and password, against health.auth in the gateway's config`
        : `the status page at ${base} needs a login (health.auth, HTTP ${res.status}) — ${HOW_TO_LOGIN}`,
    );
  }
  if (res.status === 429) {
    await res.body?.cancel();
    const wait = res.headers.get('retry-after') ?? 'a few';
    throw new UserError(`the status page at ${base} is refusing logins from here for ${wait} s after too many failed ones — wait, then try with the right login (health.auth)`);
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new UserError(`the status page at ${base} answered HTTP ${res.status} — check the gateway's log (journalctl -u citygate -n 50)`);
  }
  try {
    return (await res.json()) as HealthPayload;
  } catch {
    throw new UserError(`${base}/health did not answer with health JSON — is ${base} a citygate status page?`);
  }
}

export function registerStatus(program: Command): void {
  withConfig(program.command('status').description("a running gateway's health, as a table"))
    .option('--url <url>', 'status page URL (default: from health.http in the config)')
    .option('--json', 'print the raw health JSON')
    .option('--token-file <file>', 'file holding the status page token (or set CITYGATE_STATUS_TOKEN)')
    .option('--user <name>', 'basic-auth user for the status page; the password from CITYGATE_STATUS_PASSWORD or --password-file')
    .option('--password-file <file>', 'file holding the basic-auth password')
    .action(async (opts: { config: string; url?: string; json?: boolean } & LoginOptions) => {
      const target: Target = opts.url ? { url: opts.url } : statusTarget(opts.config);
      const h = await fetchHealth(target.url, authorizationHeader(opts, process.env, target.auth));
      if (opts.json) return void process.stdout.write(`${JSON.stringify(h, null, 2)}\n`);
      const b = h.buffer;
      process.stdout.write(
        `gateway ${h.gateway}  version ${h.version}  up ${h.uptime_s}s\n` +
          `uplink  ${h.uplink.state}${h.uplink.state !== 'online' && h.uplink.last_error ? ` (${h.uplink.last_error})` : ''}  reconnects ${h.uplink.reconnects}  delivered ${h.uplink.acked_readings}${h.uplink.since_ack_s !== undefined ? `  last ack ${h.uplink.since_ack_s}s ago` : ''}${h.uplink.insecure ? '  UNENCRYPTED' : ''}\n` +
          `buffer  ${b.readings} readings, ${formatBytes(b.bytes)}, oldest ${b.oldest_age_s ?? '—'}s, dropped ${b.dropped}, next seq ${b.next_seq}\n\n`,
      );
      process.stdout.write(
        table(
          ['device', 'state', 'readings', 'last (s)', 'errors', 'last error'],
          Object.entries(h.devices).map(([id, d]) => [id, d.state, d.readings, d.last_reading_age_s ?? '—', d.errors, d.last_error ?? '']),
        ),
      );
      const sys = h.system;
      process.stdout.write(
        `\nsystem  cpu ${sys.cpu_temp_c ?? '—'}°C  load ${sys.load_1m}  disk free ${sys.disk_free_bytes === null || sys.disk_free_bytes === undefined ? '—' : formatBytes(sys.disk_free_bytes)}\n`,
      );
    });
}

/**
 * Every top-level command, in the order `citygate --help` lists them, loaded lazily.
 *
 * `citygate run …` imports only the run command's module (and what it needs); a help
 * listing imports none of them: it shows each command's `term` and `summary` from this
 * table. The table must say exactly what the command's own module registers — a unit
 * test (test/unit/cli/catalog.test.ts) loads every command and compares.
 */
import type { Command } from 'commander';

export interface CommandEntry {
  name: string;
  /** How the help listing shows it, e.g. "validate [options] <files...>". */
  term: string;
  summary: string;
  /** Imports the command's module and returns its register function. */
  load(): Promise<(program: Command) => void>;
}

export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'run',
    term: 'run [options]',
    summary: 'run the gateway service (systemd runs this)',
    load: async () => (await import('./run.js')).registerRun,
  },
  {
    name: 'demo',
    term: 'demo [options]',
    summary: 'run everything on this machine: simulated devices, embedded MQTT broker, status page',
    load: async () => (await import('./demo.js')).registerDemo,
  },
  {
    name: 'validate',
    term: 'validate [options] <files...>',
    summary: 'check config files: every problem as file:line:col; exit 1 on any',
    load: async () => (await import('./validate.js')).registerValidate,
  },
  {
    name: 'schema',
    term: 'schema [options]',
    summary: 'print the JSON Schema of the gateway config (for editors: yaml-language-server)',
    load: async () => (await import('./schema.js')).registerSchema,
  },
  {
    name: 'probe',
    term: 'probe',
    summary: 'on-site checks: Modbus scan/read, serial sniff, GPIO watch/set',
    load: async () => (await import('../probe/index.js')).registerProbe,
  },
  {
    name: 'status',
    term: 'status [options]',
    summary: "a running gateway's health, as a table",
    load: async () => (await import('./status.js')).registerStatus,
  },
  {
    name: 'queue',
    term: 'queue',
    summary: 'inspect, export or purge the disk buffer',
    load: async () => (await import('./queue.js')).registerQueue,
  },
  {
    name: 'doctor',
    term: 'doctor [options]',
    summary: 'check permissions, device nodes, clock, disk, broker reachability and TLS, config',
    load: async () => (await import('./doctor.js')).registerDoctor,
  },
  {
    name: 'fleet',
    term: 'fleet [options]',
    summary: 'every gateway on a broker, most trouble first (live table, or Prometheus metrics with --prometheus)',
    load: async () => (await import('./fleet.js')).registerFleet,
  },
  {
    name: 'decode',
    term: 'decode [options] [file]',
    summary: 'print a data message payload (JSON or compact encoding) as JSON; from a file or stdin',
    load: async () => (await import('./decode.js')).registerDecode,
  },
  {
    name: 'update',
    term: 'update [options] [bundle]',
    summary: 'install a release bundle; roll back if it is not healthy in time',
    load: async () => (await import('./update.js')).registerUpdate,
  },
  {
    name: 'keys',
    term: 'keys',
    summary: 'release signing keys: generate a pair, sign a bundle, verify one, list the trusted keys',
    load: async () => (await import('./keys.js')).registerKeys,
  },
];

export function findCommand(name: string): CommandEntry | undefined {
  return COMMANDS.find((c) => c.name === name);
}

/**
 * Registers every command as a listing-only placeholder (name and summary, no
 * options, no action): enough for `citygate --help` and for commander's
 * "unknown command" message, without importing any command module.
 */
export function registerListing(program: Command): void {
  const terms = new Map<string, string>();
  for (const c of COMMANDS) {
    program.command(c.name).description(c.summary);
    terms.set(c.name, c.term);
  }
  program.configureHelp({ subcommandTerm: (cmd) => terms.get(cmd.name()) ?? `${cmd.name()} [command]` });
}

/**
 * Lazy command loading (src/cli/commands/index.ts): the help listing comes from a
 * table, so the table must say what each command's module really registers; and the
 * top-level `help` names an unknown command instead of printing the general help.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../../src/cli/commands/index.js';

const BIN = fileURLToPath(new URL('../../../bin/citygate.js', import.meta.url));

function cli(args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 20_000 });
}

describe('command catalog', () => {
  it.each(COMMANDS.map((c) => [c.name, c] as const))('%s: the listing says what the module registers', async (_name, entry) => {
    const program = new Command('citygate');
    (await entry.load())(program);
    const cmd = program.commands.find((c) => c.name() === entry.name);
    expect(cmd, `${entry.name} registers a command of that name`).toBeDefined();
    expect(cmd!.description()).toBe(entry.summary);
    expect(program.createHelp().subcommandTerm(cmd!)).toBe(entry.term);
  });

  it('--help lists every command; help with an unknown command is a user error', () => {
    const help = cli(['--help']);
    expect(help.status).toBe(0);
    for (const c of COMMANDS) expect(help.stdout).toContain(`${c.term} `);
    const unknown = cli(['help', 'foo']);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain('unknown command foo');
    expect(unknown.stdout).toBe('');
    const known = cli(['help', 'validate']);
    expect(known.status).toBe(0);
    expect(known.stdout).toContain('Usage: citygate validate [options] <files...>');
  });
});

// docs/field-notes.md#johnny-five-repl-exit: with johnny-five's REPL on and stdin closed (systemd), the process exits
// ~20 ms after "ready", through process.reallyExit(), skipping exit handlers (and so our
// buffer flush). The link must keep the process alive; the control proves the hazard is
// real, so this test would notice if the link stopped disabling the REPL.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CHILD = fileURLToPath(new URL('./fixtures/stdin-closed-child.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../../../', import.meta.url));

function run(mode: string): { status: number | null; lines: string[] } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', CHILD, mode], {
    cwd: REPO,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'], // stdin is /dev/null, as under systemd
    timeout: 20_000,
    env: { ...process.env, IS_TEST_MODE: '' },
  });
  return { status: r.status, lines: r.stdout.split('\n').filter(Boolean) };
}

describe('johnny-five with stdin at /dev/null', () => {
  it('our link: the process stays alive after ready, closes the board, and exits through its exit handlers', () => {
    const r = run('link');
    expect(r.status).toBe(0);
    expect(r.lines).toEqual(['ready', 'alive', 'closed', 'exit-handlers-ran']);
  });

  it('control: a johnny-five Board with default options kills the process right after ready, skipping exit handlers', () => {
    const r = run('j5-defaults');
    // the REPL prompt ">> " precedes our output
    expect(r.lines.some((l) => l.endsWith('ready'))).toBe(true);
    expect(r.lines).not.toContain('alive');
    expect(r.lines).not.toContain('exit-handlers-ran');
  });
});

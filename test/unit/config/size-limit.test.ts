/**
 * A config file far too large to be one (a log or a capture named gateway.yaml) is
 * refused before it is read: one line with the size and the limit, exit 1 — never
 * "heap out of memory" (exit 134) from the CLI's 96 MiB heap.
 */
import { closeSync, openSync, readdirSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, STACK, cli } from '../../helpers/cli.js';
import { tempDir } from '../../helpers/gateway-config.js';
import { checkConfigText } from '../../../src/config/load.js';
import { MAX_CONFIG_BYTES } from '../../../src/config/size-limit.js';

function bigFile(bytes: number): string {
  const file = join(tempDir('cg-big-'), 'gateway.yaml');
  const fd = openSync(file, 'w');
  const chunk = Buffer.from(`gateway: { id: gw-1 }\n# ${'x'.repeat(1000)}\n`);
  for (let n = 0; n < bytes; n += chunk.length) writeSync(fd, chunk);
  closeSync(fd);
  return file;
}

describe('config size limit', () => {
  it('validate and run refuse a 60 MB file with the size and the limit, exit 1', async () => {
    const file = bigFile(60 * 1024 * 1024);
    const v = await cli(['validate', file]);
    expect(v.code).toBe(1);
    expect(v.stdout).toMatch(/gateway\.yaml: is 60\.0 MiB, more than the 1\.0 MiB a gateway config may be/);
    const r = await cli(['run', '--config', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/citygate: config file .*gateway\.yaml is 60\.0 MiB, more than the 1\.0 MiB/);
    for (const out of [v, r]) expect(out.stdout + out.stderr).not.toMatch(STACK);
  }, 60_000);

  it('holds for text that arrives without a file, and the largest example board is far below it', () => {
    const r = checkConfigText('#'.repeat(MAX_CONFIG_BYTES + 1), 'remote.yaml');
    expect(r.issues).toEqual([expect.objectContaining({ line: 1, col: 1, message: expect.stringMatching(/^this config is 1\.0 MiB, more than the 1\.0 MiB/) })]);
    const boards = join(ROOT, 'boards');
    for (const f of readdirSync(boards).filter((n) => n.endsWith('.yaml'))) expect(statSync(join(boards, f)).size, f).toBeLessThan(MAX_CONFIG_BYTES / 50);
  });
});

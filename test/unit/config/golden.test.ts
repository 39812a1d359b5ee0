/**
 * Golden config cases: every `*.yaml` under test/golden/ and src/drivers/<name>/testcases/
 * is checked; a sibling `*.errors` file holds the exact expected problems (and
 * warnings, marked "(warning)"), one per line; no `.errors` file means the config must
 * be valid with no warnings. `UPDATE_GOLDEN=1 npm test` rewrites the .errors files —
 * then read the diff before committing it.
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkConfigText } from '../../../src/config/load.js';
import { formatIssue } from '../../../src/config/issues.js';

const root = join(import.meta.dirname, '../../..');
const dirs = [join(root, 'test/golden'), ...readdirSync(join(root, 'src/drivers')).map((d) => join(root, 'src/drivers', d, 'testcases'))];
const cases = dirs.filter(existsSync).flatMap((d) => readdirSync(d).filter((f) => f.endsWith('.yaml') && f !== 'secrets.yaml').map((f) => join(d, f)));

function check(file: string): string[] {
  const rel = relative(root, file);
  const r = checkConfigText(readFileSync(file, 'utf8'), rel, { env: { MQTT_PASSWORD: 'golden-test-pw' }, missingEnv: 'warn' });
  return [...r.issues.map(formatIssue), ...r.warnings.map((w) => `${formatIssue(w)} (warning)`)];
}

describe('golden config cases', () => {
  it('finds the cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(7);
  });
  for (const file of cases) {
    const rel = relative(root, file);
    it(rel, () => {
      const got = check(file);
      const expectedFile = file.replace(/\.yaml$/, '.errors');
      if (process.env.UPDATE_GOLDEN && (got.length || existsSync(expectedFile))) writeFileSync(expectedFile, got.join('\n') + '\n');
      const expected = existsSync(expectedFile) ? readFileSync(expectedFile, 'utf8').split('\n').filter(Boolean) : [];
      if (rel.includes('/valid-') || rel.startsWith('test/golden/valid-')) expect(expected, 'valid-* cases must have no .errors').toEqual([]);
      expect(got).toEqual(expected);
    });
  }
});

/**
 * A driver is one folder and one line in the registry (docs/architecture.md#adding-a-driver). This fails when
 * a registered driver lacks what integrators and reviewers rely on: a README, its
 * schema, golden config cases, and an example board that uses it; and when the
 * editor schema in boards/ is stale.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DRIVERS } from '../../../src/drivers/registry.js';
import { jsonSchema } from '../../../src/config/schema.js';
import { checkConfigText } from '../../../src/config/load.js';
import { formatIssue } from '../../../src/config/issues.js';

const root = join(import.meta.dirname, '../../..');
const boards = readdirSync(join(root, 'boards')).filter((f) => f.endsWith('.yaml'));

describe('driver registry', () => {
  it('every driver folder is registered', () => {
    const folders = readdirSync(join(root, 'src/drivers'), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
    expect(folders.sort()).toEqual(DRIVERS.map((d) => d.name).sort());
  });

  for (const d of DRIVERS) {
    it(`${d.name}: README, schema, golden cases and an example board`, () => {
      const dir = join(root, 'src/drivers', d.name);
      expect(existsSync(join(dir, 'README.md')), `${dir}/README.md`).toBe(true);
      expect(existsSync(join(dir, 'schema.ts')), `${dir}/schema.ts`).toBe(true);
      const cases = existsSync(join(dir, 'testcases')) ? readdirSync(join(dir, 'testcases')) : [];
      if (d.name !== 'sim') {
        expect(cases.some((f) => f.startsWith('valid-')), `${d.name} needs testcases/valid-*.yaml`).toBe(true);
        expect(cases.some((f) => f.startsWith('invalid-')), `${d.name} needs testcases/invalid-*.yaml`).toBe(true);
      }
      const used = boards.some((b) => new RegExp(`driver:\\s*${d.name}\\b`).test(readFileSync(join(root, 'boards', b), 'utf8')));
      expect(used, `no board in boards/ uses driver ${d.name}`).toBe(true);
    });
  }
});

describe('boards/', () => {
  for (const b of boards) {
    it(`${b} validates`, () => {
      const r = checkConfigText(readFileSync(join(root, 'boards', b), 'utf8'), `boards/${b}`, { env: { MQTT_PASSWORD: 'x', TB_ACCESS_TOKEN: 'x' } });
      expect(r.issues.map(formatIssue)).toEqual([]);
      expect(r.warnings.map(formatIssue)).toEqual([]);
    });
  }

  it('citygate.schema.json is current (regenerate: npx citygate schema > boards/citygate.schema.json)', () => {
    const committed = JSON.parse(readFileSync(join(root, 'boards/citygate.schema.json'), 'utf8'));
    expect(committed).toEqual(JSON.parse(JSON.stringify(jsonSchema())));
  });
});

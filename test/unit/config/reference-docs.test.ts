/**
 * docs/config/ holds a reference page per config section generated from the schema.
 * This fails when a committed page differs from what the schema produces now
 * (regenerate: npx citygate schema --docs docs/config), or when a section has no page.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonSchema } from '../../../src/config/schema.js';
import { referencePages } from '../../../src/config/reference.js';
import { DRIVERS } from '../../../src/drivers/registry.js';

const dir = join(import.meta.dirname, '../../../docs/config');
const pages = referencePages(jsonSchema());

describe('docs/config reference', () => {
  it('has a page per section and per driver', () => {
    for (const name of ['README.md', 'gateway.md', 'uplink.md', 'buffer.md', 'health.md', 'buses.md', ...DRIVERS.map((d) => `devices-${d.name}.md`)]) {
      expect(Object.keys(pages)).toContain(name);
    }
  });

  for (const [name, text] of Object.entries(pages)) {
    it(`${name} is current (regenerate: npx citygate schema --docs docs/config)`, () => {
      const file = join(dir, name);
      expect(existsSync(file), `${file} is missing`).toBe(true);
      expect(readFileSync(file, 'utf8')).toBe(text);
    });
  }

  it('every key of the schema appears in the reference, with its default', () => {
    const uplink = pages['uplink.md'] ?? '';
    expect(uplink).toMatch(/\| `uplink\.reconnect\.min` \| duration \| `"1s"` \|/);
    expect(pages['buffer.md']).toMatch(/\| `buffer\.max_bytes` \| size \| `"256MiB"` \|/);
    expect(pages['README.md']).toMatch(/## The point pipeline[\s\S]*scale[\s\S]*precision[\s\S]*valid_range[\s\S]*deadband/);
  });
});

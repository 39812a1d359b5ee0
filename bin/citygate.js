#!/usr/bin/env -S node --max-old-space-size=96 --max-semi-space-size=2
// citygate CLI entry. In a checkout (src/ present) the TypeScript sources run
// directly through tsx, so `npx citygate …` works right after `npm install`
// with no build step; an installed package built with `npm run build` runs dist/.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = new URL('../', import.meta.url);
const built = new URL('dist/cli/main.js', root);
const source = new URL('src/cli/main.ts', root);

if (existsSync(fileURLToPath(source)) && process.env.CITYGATE_USE_DIST !== '1') {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  await import(built.href);
}

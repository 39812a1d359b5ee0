#!/usr/bin/env -S node --max-old-space-size=96 --max-semi-space-size=2 --no-turbofan
// citygate CLI entry.
// - Installed (npm package, release bundle, deploy/install.sh): there is no src/, only
//   the compiled dist/, which runs on bare node: no TypeScript loader, no tsx.
// - In a checkout (src/ present): the TypeScript sources run through tsx (a development
//   dependency), so `npx citygate …` works right after `npm install` with no build step.
//   CITYGATE_USE_DIST=1 runs dist/ instead (after `npm run build`), as installed.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = new URL('../', import.meta.url);
const built = new URL('dist/cli/main.js', root);
const source = new URL('src/cli/main.ts', root);

if (existsSync(fileURLToPath(source)) && process.env.CITYGATE_USE_DIST !== '1') {
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    process.stderr.write('citygate: this checkout has no tsx (a development dependency): run `npm install`, or `npm run build` and set CITYGATE_USE_DIST=1\n');
    process.exit(2);
  }
  register();
  await import(source.href);
} else if (existsSync(fileURLToPath(built))) {
  await import(built.href);
} else {
  process.stderr.write(`citygate: ${fileURLToPath(built)} is missing: this installation was not built (npm run build)\n`);
  process.exit(2);
}

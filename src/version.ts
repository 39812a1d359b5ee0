import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
/** The package version, reported in `status` and `--version`. */
export const VERSION: string = (require('../package.json') as { version: string }).version;
/** The directory holding citygate's code and package.json (a release's directory when installed from a bundle). */
export const PACKAGE_ROOT: string = fileURLToPath(new URL('..', import.meta.url));

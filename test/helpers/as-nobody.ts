/**
 * Permission tests run as root spawn a child as "nobody" (uid 65534): root passes
 * every access check, so only another user can show what a technician outside group
 * `gpio` sees. That child must be able to read the checkout; a checkout inside a
 * private directory (mktemp -d makes 0700 ones) is not readable by it. `.ci/run`
 * opens the ancestors for traversal; elsewhere this says what to do.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));

export function assertNobodyCanReadCheckout(): void {
  const r = spawnSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(join(REPO, 'package.json'))})`], {
    uid: 65534,
    gid: 65534,
    encoding: 'utf8',
  });
  if (r.status !== 0) {
    throw new Error(
      `running as root, this test needs uid 65534 (nobody) to read the checkout at ${REPO}, and it cannot — ` +
        'run the tests as a normal user, or let others traverse the parent directories (chmod o+x), as .ci/run does',
    );
  }
}

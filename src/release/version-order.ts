/**
 * Release version order, for the rollback check (an update may not install a release
 * older than the running one unless a person on the gateway allows it). Semantic
 * versions: MAJOR.MINOR.PATCH, an optional -prerelease (older than the release itself,
 * compared field by field, numbers numerically), +build ignored.
 */

const SEMVER = /^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;

/** Negative when a < b, 0 when equal, positive when a > b; undefined when either is not a version. */
export function compareVersions(a: string, b: string): number | undefined {
  const x = SEMVER.exec(a);
  const y = SEMVER.exec(b);
  if (!x || !y) return undefined;
  for (let i = 1; i <= 3; i++) {
    const d = Number(x[i]) - Number(y[i]);
    if (d !== 0) return d;
  }
  const [pa, pb] = [x[4], y[4]];
  if (pa === pb) return 0;
  if (pa === undefined) return 1;
  if (pb === undefined) return -1;
  const fa = pa.split('.');
  const fb = pb.split('.');
  for (let i = 0; i < Math.min(fa.length, fb.length); i++) {
    const [u, v] = [fa[i]!, fb[i]!];
    const [nu, nv] = [/^\d+$/.test(u), /^\d+$/.test(v)];
    if (nu && nv && Number(u) !== Number(v)) return Number(u) - Number(v);
    if (nu !== nv) return nu ? -1 : 1;
    if (u !== v) return u < v ? -1 : 1;
  }
  return fa.length - fb.length;
}

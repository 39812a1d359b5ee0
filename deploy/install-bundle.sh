#!/usr/bin/env bash
# Install citygate from an unpacked release bundle: no network, no compiler, no
# system Node.js needed (the bundle carries its own runtime). As root:
#
#   tar xzf citygate-<version>-linux-arm64.tar.gz
#   sudo ./citygate-<id>/install.sh [--dry-run] [--keys DIR] [path/to/gateway.yaml]
#
# Copies the release to /opt/citygate/releases/<id> (kept if already there), points
# /opt/citygate/current at it, installs the unit, udev rules and /usr/local/bin/citygate.
# Config, secrets and buffer are kept. Later updates: `citygate update BUNDLE`, signed
# by a key in /etc/citygate/keys: --keys DIR installs those public keys (*.pub).
set -euo pipefail

SRC="$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)"
# shellcheck source=deploy/lib/common.sh
. "$SRC/deploy/lib/common.sh"

parse_install_args "$0" 12 "$@"
[ -f "$SRC/release.json" ] || die "$SRC is not an unpacked release bundle (no release.json): from a checkout use deploy/install.sh"

field() { sed -n "s/.*\"$1\":\"\\{0,1\\}\\([^\",}]*\\).*/\\1/p" "$SRC/release.json"; }
ID=$(field id)
ARCH=$(field arch)
case "$(uname -m)" in aarch64) here=arm64 ;; armv7l | armv6l) here=arm ;; x86_64) here=x64 ;; *) here=$(uname -m) ;; esac
# CITYGATE_CROSS_INSTALL=1 with ROOT=: install into another architecture's root file
# system (an image being prepared, the arm64 release test); nothing is run from it.
if [ -n "$ROOT" ] && [ "${CITYGATE_CROSS_INSTALL:-0}" = 1 ]; then
  say "installing the $ARCH bundle into $ROOT from a $here machine"
else
  [ "$ARCH" = "$here" ] || die "this bundle is for $ARCH, this machine is $here: use the linux-${here/arm/armv7} bundle"
  "$SRC/node/bin/node" -e 0 || die "the bundle's Node.js does not run on this machine ($(uname -m))"
fi

validate_given "$SRC/node/bin/node" "$SRC/bin/citygate.js" "$GIVEN"
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
install_keys "$KEYS_FROM"
say "installed $ID"

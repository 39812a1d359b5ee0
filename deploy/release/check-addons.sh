#!/usr/bin/env bash
# Load every native addon of a staged bundle with the bundle's own Node.js, emulated:
#
#   check-addons.sh NODEPKG STAGE TRIPLE
#
# NODEPKG holds the target's Node.js (bin/node, include/node/node_version.h), STAGE the
# bundle tree, TRIPLE the cross toolchain's triple (aarch64-linux-gnu, arm-linux-gnueabihf)
# whose sysroot (/usr/TRIPLE, from Debian's cross packages) gives the target's libc and
# libstdc++. `file` only proves an addon is for the right CPU; an addon compiled against
# another Node's headers (another NODE_MODULE_VERSION) passes that and then kills the
# gateway at its first start with ERR_DLOPEN_FAILED. Here each one is dlopen()ed by the
# bundled Node under qemu-user, as the gateway will. Exit 0 when all load, 2 otherwise.
#
# Needs: apt-get install -y qemu-user-static
set -euo pipefail

NODEPKG="${1:?usage: check-addons.sh NODEPKG STAGE TRIPLE}"
STAGE="${2:?usage: check-addons.sh NODEPKG STAGE TRIPLE}"
TRIPLE="${3:?usage: check-addons.sh NODEPKG STAGE TRIPLE}"
case "$TRIPLE" in
  aarch64-*) QEMU=qemu-aarch64-static ;;
  arm-*) QEMU=qemu-arm-static ;;
  *) echo "check-addons.sh: no emulator known for $TRIPLE" >&2; exit 2 ;;
esac
command -v "$QEMU" >/dev/null || { echo "check-addons.sh: $QEMU is missing: apt-get install -y qemu-user-static" >&2; exit 2; }
SYSROOT="/usr/$TRIPLE"
[ -d "$SYSROOT/lib" ] || { echo "check-addons.sh: $SYSROOT/lib is missing: apt-get install -y g++-$TRIPLE" >&2; exit 2; }

ABI=$(sed -n 's/^#define NODE_MODULE_VERSION \([0-9][0-9]*\).*/\1/p' "$NODEPKG/include/node/node_version.h" 2>/dev/null || true)
echo "   the bundled Node: $("$QEMU" -L "$SYSROOT" "$NODEPKG/bin/node" --version), NODE_MODULE_VERSION ${ABI:-unknown}"

failed=0
while IFS= read -r -d '' addon; do
  rel="${addon#"$STAGE"/}"
  # process.dlopen is what require() does for a .node file, without running any of the
  # package's JavaScript.
  if out=$("$QEMU" -L "$SYSROOT" "$NODEPKG/bin/node" -e 'process.dlopen({ exports: {} }, process.argv[1])' "$addon" 2>&1); then
    echo "   loads: $rel"
  else
    echo "check-addons.sh: $rel does not load in the bundled Node:" >&2
    printf '%s\n' "$out" | grep -E 'Error|NODE_MODULE_VERSION|compiled' | head -6 >&2
    failed=1
  fi
done < <(find "$STAGE/node_modules" -name '*.node' -not -path '*/prebuilds/*' -print0)
[ "$failed" = 0 ] || exit 2

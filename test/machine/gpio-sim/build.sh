#!/usr/bin/env bash
# Builds the gpio-sim kernel module and the irq_sim it needs, out of tree, for a Debian
# kernel that ships neither (bookworm's 6.1 kernels: CONFIG_GPIO_SIM and CONFIG_IRQ_SIM are
# off). The machine test loads them in a qemu guest to give citygate a real kernel GPIO
# chip (sysfs and /dev/gpiochipN, edges by interrupt). README.md beside this file says how.
#
#   test/machine/gpio-sim/build.sh KVER OUTDIR
#     KVER    the guest kernel's release, e.g. 6.1.0-57-amd64 (`uname -r` in the guest)
#     OUTDIR  where irq_sim.ko and gpio-sim.ko are written
#
# Needs Debian's linux-source-6.1 and linux-headers-KVER packages (installed here with
# apt-get when missing and we are root), gcc, make, xz-utils, kmod. Sources come from the
# linux-source tarball, so the modules match the headers' kernel; vermagic is checked.
#
# One change to the sources: irq_sim.c calls handle_simple_irq(irq_to_desc(irq)), and
# irq_to_desc is not exported to modules; generic_handle_irq(irq) (exported) looks the
# descriptor up and runs the same handler, which irq_sim_domain_map set to handle_simple_irq.
# irq_sim.c also gains the MODULE_LICENSE a module needs (it is GPL-2.0, like the kernel).
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 KVER OUTDIR   (e.g. $0 6.1.0-57-amd64 /tmp/gpio-sim-ko)" >&2
  exit 2
fi
KVER=$1
OUTDIR=$2
HEADERS=/usr/src/linux-headers-$KVER
TARBALL=/usr/src/linux-source-6.1.tar.xz

need=()
[[ -f $TARBALL ]] || need+=(linux-source-6.1)
[[ -f $HEADERS/Makefile ]] || need+=("linux-headers-$KVER")
for tool in gcc make xz modinfo; do command -v "$tool" >/dev/null || need+=("$tool"); done
if [[ ${#need[@]} -gt 0 ]]; then
  pkgs=()
  for n in "${need[@]}"; do
    case $n in
      gcc) pkgs+=(gcc) ;; make) pkgs+=(make) ;; xz) pkgs+=(xz-utils) ;; modinfo) pkgs+=(kmod) ;; *) pkgs+=("$n") ;;
    esac
  done
  if [[ $(id -u) -ne 0 ]]; then
    echo "gpio-sim build: missing ${pkgs[*]}; install them: sudo apt-get install -y --no-install-recommends ${pkgs[*]}" >&2
    exit 1
  fi
  echo "gpio-sim build: installing ${pkgs[*]}" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${pkgs[@]}" >&2
fi
[[ -f $HEADERS/Makefile ]] || { echo "gpio-sim build: $HEADERS missing after install: is KVER right?" >&2; exit 1; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
SRC=linux-source-6.1
tar -xJf "$TARBALL" -C "$WORK" "$SRC/drivers/gpio/gpio-sim.c" "$SRC/drivers/gpio/gpiolib.h" "$SRC/kernel/irq/irq_sim.c"
B=$WORK/build
mkdir -p "$B"
cp "$WORK/$SRC/drivers/gpio/gpio-sim.c" "$WORK/$SRC/drivers/gpio/gpiolib.h" "$WORK/$SRC/kernel/irq/irq_sim.c" "$B/"

# the one source change (see the header)
grep -q 'handle_simple_irq(irq_to_desc(irqnum));' "$B/irq_sim.c" || {
  echo "gpio-sim build: irq_sim.c no longer has the irq_to_desc call this script replaces: check the fix" >&2
  exit 1
}
sed -i 's/handle_simple_irq(irq_to_desc(irqnum));/generic_handle_irq(irqnum);/' "$B/irq_sim.c"
grep -q MODULE_LICENSE "$B/irq_sim.c" || printf '\n#include <linux/module.h>\nMODULE_LICENSE("GPL");\nMODULE_DESCRIPTION("interrupt simulator (out-of-tree build for gpio-sim)");\n' >>"$B/irq_sim.c"

printf 'obj-m := irq_sim.o gpio-sim.o\n' >"$B/Kbuild"
make -C "$HEADERS" M="$B" -j"$(nproc)" modules >"$WORK/make.log" 2>&1 || {
  cat "$WORK/make.log" >&2
  echo "gpio-sim build: make failed (log above)" >&2
  exit 1
}
# modpost only warns about symbols the running kernel does not export: loading would fail
if grep -q 'undefined!' "$WORK/make.log"; then
  grep 'undefined!' "$WORK/make.log" >&2
  echo "gpio-sim build: a module uses a symbol the kernel does not export (above)" >&2
  exit 1
fi

mkdir -p "$OUTDIR"
for ko in irq_sim.ko gpio-sim.ko; do
  cp "$B/$ko" "$OUTDIR/$ko"
  magic=$(modinfo -F vermagic "$OUTDIR/$ko")
  if [[ ${magic%% *} != "$KVER" ]]; then
    echo "gpio-sim build: $ko has vermagic \"$magic\", not $KVER" >&2
    exit 1
  fi
  echo "$OUTDIR/$ko  vermagic: $magic"
done
# gpio-sim.ko needs irq_sim.ko (and configfs): modinfo's depends says so, modprobe follows it
echo "gpio-sim.ko depends: $(modinfo -F depends "$OUTDIR/gpio-sim.ko")"

# Shared by deploy/install.sh (from a checkout), deploy/install-bundle.sh (from a
# release bundle) and deploy/firstboot.sh (from the boot partition). Sourced, not run.
#
# Layout on a gateway:
#   /opt/citygate/releases/<id>/   one directory per installed release: bin/ dist/
#                                  node_modules/ boards/ deploy/ package.json and
#                                  node/bin/node (the bundle's runtime, or a link to
#                                  the system node for a checkout install)
#   /opt/citygate/current          symlink to the active release (the unit runs it)
#   /opt/citygate/previous         symlink to the release before it (rollback)
#   /etc/citygate/                 gateway.yaml, env, secrets.yaml, certificates
#   /etc/citygate/keys/            the public keys updates must be signed by (root, 0755/0644)
#   /var/lib/citygate/             the buffer
#
# Every path is under $ROOT (default /): the tests install into a fake root.
# DRY_RUN=1 prints what would change and changes nothing.

ROOT="${ROOT:-}"
DRY_RUN="${DRY_RUN:-0}"
PREFIX="$ROOT/opt/citygate"
CONF="$ROOT/etc/citygate"
KEYS="$CONF/keys"
DATA="$ROOT/var/lib/citygate"
SYSTEMD_DIR="$ROOT/etc/systemd/system"
UDEV_DIR="$ROOT/etc/udev/rules.d"

say() { echo "citygate: $*"; }
die() { echo "citygate: $*" >&2; exit 1; }

# Runs a command, or prints it under DRY_RUN=1.
run() {
  if [ "$DRY_RUN" = 1 ]; then echo "+ $*"; else "$@"; fi
}

# The installers' command line: [--dry-run] [--keys DIR] [gateway.yaml]; sets DRY_RUN,
# KEYS_FROM and GIVEN. $1: the script (its header up to line $2 is the --help text).
parse_install_args() {
  local script="$1" help_end="$2"
  shift 2
  GIVEN="" KEYS_FROM=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --dry-run) DRY_RUN=1 ;;
      --keys) [ $# -ge 2 ] || die "--keys needs a directory of *.pub files"; KEYS_FROM="$2"; shift ;;
      -h | --help) sed -n "2,${help_end}p" "$script"; exit 0 ;;
      -*) die "unknown option $1 (see --help)" ;;
      *) GIVEN="$1" ;;
    esac
    shift
  done
  [ -z "$GIVEN" ] || [ -f "$GIVEN" ] || die "$GIVEN: no such file"
  [ -z "$KEYS_FROM" ] || [ -d "$KEYS_FROM" ] || die "$KEYS_FROM: no such directory (--keys: the release signing public keys, *.pub)"
  [ "$(id -u)" -eq 0 ] || [ "$DRY_RUN" = 1 ] || [ -n "$ROOT" ] || die "run as root: sudo $script"
}

# Node.js this release runs with must be 20.19+, 22.12+ or 24.
check_node_version() {
  local node="$1" v
  v=$("$node" -p 'process.versions.node') || die "$node does not run"
  case "$v" in
    20.*) [ "$(echo "$v" | cut -d. -f2)" -ge 19 ] || die "Node $v is too old: 20.19+, 22 or 24 is needed" ;;
    22.* | 24.*) ;;
    *) die "Node $v is not supported: 20.19+, 22 or 24 is needed (a release bundle carries its own)" ;;
  esac
}

# The citygate system user: no login, no home, in dialout (serial) and gpio.
ensure_user() {
  local r=()
  [ -n "$ROOT" ] && r=(-R "$ROOT")
  grep -q '^gpio:' "$ROOT/etc/group" || run groupadd "${r[@]}" --system gpio
  grep -q '^dialout:' "$ROOT/etc/group" || run groupadd "${r[@]}" --system dialout
  grep -q '^citygate:' "$ROOT/etc/passwd" ||
    run useradd "${r[@]}" --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin --user-group citygate
  run usermod "${r[@]}" -aG dialout,gpio citygate
}

# uid:gid of the citygate user (numeric: the fake root's users are not the host's).
cg_owner() {
  [ "$DRY_RUN" = 1 ] && ! grep -q '^citygate:' "$ROOT/etc/passwd" && { echo citygate:citygate; return; }
  awk -F: '$1 == "citygate" { print $3 ":" $4 }' "$ROOT/etc/passwd"
}

ensure_dirs() {
  local owner gid
  owner=$(cg_owner)
  gid=${owner#*:}
  run install -d -m 0755 "$PREFIX" "$PREFIX/releases"
  run install -d -m 0750 -o 0 -g "$gid" "$CONF"
  run install -d -m 0700 -o "${owner%:*}" -g "$gid" "$DATA"
}

# Points `current` at releases/$1 (atomically: a new link renamed over the old one)
# and `previous` at what `current` was, unless that is the same release.
switch_release() {
  local id="$1" old=""
  [ -d "$PREFIX/releases/$id" ] || [ "$DRY_RUN" = 1 ] || die "no release $id under $PREFIX/releases"
  [ -L "$PREFIX/current" ] && old=$(basename "$(readlink "$PREFIX/current")")
  if [ -n "$old" ] && [ "$old" != "$id" ]; then
    run ln -sfn "releases/$old" "$PREFIX/previous.new"
    run mv -T "$PREFIX/previous.new" "$PREFIX/previous"
  fi
  # The release's files on the card before a link points at them, and the links after:
  # without it a power cut soon after an install can leave `current` pointing at empty
  # files (docs/field-notes.md#power-cut-after-an-update). sync -f is one syncfs.
  run sync -f "$PREFIX/releases/$id"
  run ln -sfn "releases/$id" "$PREFIX/current.new"
  run mv -T "$PREFIX/current.new" "$PREFIX/current"
  run sync -f "$PREFIX"
  say "current release: $id${old:+ (was $old)}"
}

# A given config is checked with the release's own CLI before anything switches: a
# broken one is refused with validate's file:line:col findings; the installed config
# and the current release stay as they were.
validate_given() {
  local node="$1" cli="$2" given="$3" out
  [ -n "$given" ] || return 0
  if [ "$DRY_RUN" = 1 ] && [ ! -e "$cli" ]; then echo "+ citygate validate $given"; return 0; fi
  local run=("$node")
  if [ "${CITYGATE_CROSS_INSTALL:-0}" = 1 ] && ! "$node" -e 0 2>/dev/null; then
    # Preparing another architecture's image: its runtime runs here only under qemu-user.
    local qemu
    qemu=$(command -v "qemu-$(file -b "$node" 2>/dev/null | sed -n 's/.*ARM aarch64.*/aarch64/p; s/.*ARM, EABI.*/arm/p')-static" 2>/dev/null || true)
    if [ -z "$qemu" ]; then
      say "warning: $given NOT validated: this bundle's Node.js does not run here and qemu-user-static is not installed; the gateway validates it before every start (or run citygate validate on it)"
      return 0
    fi
    run=("$qemu" -L "${ROOT:-/}" "$node")
  fi
  if ! out=$(CITYGATE_USE_DIST=1 "${run[@]}" "$cli" validate "$given" 2>&1); then
    printf '%s\n' "$out" >&2
    die "$given is not a valid gateway config (above): the installed config and the current release are unchanged — fix it and run again"
  fi
  say "$given: valid"
}

# First config: the given file, else the example. Never overwrites an existing one.
ensure_config() {
  local given="$1" example="$2" gid
  gid=$(cg_owner)
  gid=${gid#*:}
  if [ ! -f "$CONF/gateway.yaml" ]; then
    run install -m 0640 -o 0 -g "$gid" "${given:-$example}" "$CONF/gateway.yaml"
    [ -n "$given" ] || say "edit $CONF/gateway.yaml (examples: /opt/citygate/current/boards/)"
  fi
  if [ ! -f "$CONF/env" ]; then
    run install -m 0600 -o 0 -g 0 /dev/null "$CONF/env"
    say "put MQTT_PASSWORD=... in $CONF/env (root-only)"
  fi
  # The service (user citygate) reads secrets.yaml; nobody else may (the loader refuses it).
  if [ -f "$CONF/secrets.yaml" ]; then
    run chown "$(cg_owner)" "$CONF/secrets.yaml"
    run chmod 0600 "$CONF/secrets.yaml"
  fi
}

# The unit, the udev rules and the `citygate` command. systemctl only where systemd
# runs (not in a chroot or a fake root): `enable` there is a symlink we make ourselves.
install_system_files() {
  local rel="$1"
  run install -d -m 0755 "$SYSTEMD_DIR" "$SYSTEMD_DIR/multi-user.target.wants" "$UDEV_DIR" "$ROOT/usr/local/bin"
  run install -m 0644 "$rel/deploy/citygate.service" "$SYSTEMD_DIR/citygate.service"
  run install -m 0644 "$rel/deploy/citygate-firstboot.service" "$SYSTEMD_DIR/citygate-firstboot.service"
  run install -m 0644 "$rel/deploy/citygate-update.path" "$SYSTEMD_DIR/citygate-update.path"
  run install -m 0644 "$rel/deploy/citygate-update.service" "$SYSTEMD_DIR/citygate-update.service"
  run install -m 0644 "$rel/deploy/99-citygate.rules" "$UDEV_DIR/99-citygate.rules"
  run ln -sfn /opt/citygate/current/deploy/citygate-cli "$ROOT/usr/local/bin/citygate"
  run ln -sfn /etc/systemd/system/citygate.service "$SYSTEMD_DIR/multi-user.target.wants/citygate.service"
  run ln -sfn /etc/systemd/system/citygate-firstboot.service "$SYSTEMD_DIR/multi-user.target.wants/citygate-firstboot.service"
  run ln -sfn /etc/systemd/system/citygate-update.path "$SYSTEMD_DIR/multi-user.target.wants/citygate-update.path"
  if [ -z "$ROOT" ] && [ -d /run/systemd/system ]; then
    run systemctl daemon-reload
    run udevadm control --reload-rules
    run udevadm trigger --subsystem-match=tty --subsystem-match=gpio
  fi
}

# Update signing keys (deploy/README.md, "Update signing keys"): every *.pub in $1 into
# $KEYS, root-owned, 0644 in a 0755 directory. Never removes one: revoking is removing
# a file by hand. Then warns when no key is trusted (every update would be refused).
install_keys() {
  local from="$1" k n=0
  run install -d -m 0755 -o 0 -g 0 "$KEYS"
  if [ -n "$from" ]; then
    for k in "$from"/*.pub; do
      [ -f "$k" ] || continue
      grep -q 'BEGIN PUBLIC KEY' "$k" || die "$k: not a PEM public key (\`citygate keys generate\` makes one)"
      run install -m 0644 -o 0 -g 0 "$k" "$KEYS/$(basename "$k")"
      n=$((n + 1))
    done
    [ "$n" -gt 0 ] || die "$from holds no *.pub key"
    say "trusting $n update signing key(s) from $from (in /etc/citygate/keys)"
  fi
  ls "$KEYS"/*.pub >/dev/null 2>&1 || [ "$DRY_RUN" = 1 ] ||
    say "WARNING: no update signing key in /etc/citygate/keys: \`citygate update\` and the update command refuse every bundle until one is installed (--keys DIR)"
}

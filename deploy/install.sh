#!/usr/bin/env bash
# Install citygate on a Raspberry Pi-class gateway (Debian / Raspberry Pi OS).
# Run from an unpacked citygate checkout or release, as root:
#   sudo ./deploy/install.sh [path/to/gateway.yaml]
# Idempotent: running it again upgrades the code and keeps config, secrets and buffer.
set -euo pipefail

SRC="$(cd "$(dirname "$0")/.." && pwd)"
PREFIX=/opt/citygate
CONF=/etc/citygate
DATA=/var/lib/citygate

die() { echo "install.sh: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "run as root: sudo $0 $*"
command -v node >/dev/null || die "Node.js 20 is needed: apt-get install -y nodejs (or NodeSource 20.x)"
major=$(node -p 'process.versions.node.split(".")[0]')
[ "$major" -ge 20 ] || die "Node.js >= 20 is needed, found $(node -v)"

# A system user with no login and no home, in the groups for serial and GPIO.
getent group gpio >/dev/null || groupadd --system gpio
id citygate >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin --user-group citygate
usermod -aG dialout,gpio citygate

install -d -m 0755 "$PREFIX"
install -d -m 0750 -o root -g citygate "$CONF"
install -d -m 0750 -o citygate -g citygate "$DATA"

echo "copying code to $PREFIX"
tar -C "$SRC" --exclude=node_modules --exclude=.git --exclude=dist -cf - . | tar -C "$PREFIX" -xf -
(cd "$PREFIX" && npm ci --no-audit --no-fund && npm run build && npm prune --omit=dev)

if [ ! -f "$CONF/gateway.yaml" ]; then
  if [ "${1:-}" ]; then install -m 0640 -o root -g citygate "$1" "$CONF/gateway.yaml"
  else install -m 0640 -o root -g citygate "$SRC/deploy/gateway.example.yaml" "$CONF/gateway.yaml"; fi
  echo "edit $CONF/gateway.yaml (see $PREFIX/boards/ for examples)"
fi
[ -f "$CONF/env" ] || { install -m 0600 -o root -g root /dev/null "$CONF/env"; echo "put MQTT_PASSWORD=... in $CONF/env (root-only)"; }
[ ! -f "$CONF/secrets.yaml" ] || chmod 0600 "$CONF/secrets.yaml"

install -m 0644 "$SRC/deploy/citygate.service" /etc/systemd/system/citygate.service
ln -sf "$PREFIX/bin/citygate.js" /usr/local/bin/citygate
systemctl daemon-reload
systemctl enable citygate.service
echo "check it:  sudo -u citygate citygate doctor --config $CONF/gateway.yaml"
echo "start it:  sudo systemctl restart citygate && journalctl -u citygate -f"

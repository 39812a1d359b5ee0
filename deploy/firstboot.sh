#!/usr/bin/env bash
# First-boot provisioning from the SD card's boot partition (run by
# citygate-firstboot.service before citygate.service; safe to run again).
#
# The technician copies a `citygate/` folder onto the boot partition (the FAT one a
# laptop can write: /boot/firmware on Raspberry Pi OS Bookworm, /boot before):
#   gateway.yaml                        required
#   env                                 MQTT_PASSWORD=... (secrets as environment)
#   secrets.yaml                        for `!secret name` in gateway.yaml
#   *.pem *.crt *.key                   TLS CA, client certificate and key
#   keys/*.pub                          the release signing public key(s): trusted from now on
#   citygate-*-linux-<arch>.tar.gz      optional: a release bundle, with its .sig
#
# Two ways it runs:
# - an image with citygate already installed: citygate-firstboot.service runs
#   /opt/citygate/current/deploy/firstboot.sh at boot while the folder has work for it;
# - a stock Raspberry Pi OS card: copy this script into the folder too and append to
#   cmdline.txt (one line):  systemd.run=/boot/firmware/citygate/firstboot.sh
#   systemd.run_success_action=reboot systemd.unit=kernel-command-line.target
#   It removes that from cmdline.txt once run, and the gateway reboots into service.
#
# This installs the card's keys/*.pub into /etc/citygate/keys (whoever writes the card
# is trusted: they hold the gateway), installs the bundle if there is one and a trusted
# key signed it (checked with openssl on a root-only copy, which is then unpacked), moves config, secrets and certificates to
# /etc/citygate with the right owners and modes, removes every secret from the FAT
# partition (whatever else happens), validates the config and enables + starts the
# service. REPORT.txt in the same folder says what happened, readable on a laptop.
# gateway.yaml becomes gateway.yaml.applied once it is valid and installed; a
# rejected one stays, so a fixed copy is picked up on the next boot.
set -uo pipefail

ROOT="${ROOT:-}"
BOOT_DIR="${BOOT_DIR:-}"
if [ -z "$BOOT_DIR" ]; then
  for d in "$ROOT/boot/firmware/citygate" "$ROOT/boot/citygate"; do [ -d "$d" ] && BOOT_DIR="$d" && break; done
fi
[ -n "$BOOT_DIR" ] && [ -d "$BOOT_DIR" ] || { echo "firstboot: no citygate/ folder on the boot partition: nothing to do"; exit 0; }
REPORT="$BOOT_DIR/REPORT.txt"
PREFIX="$ROOT/opt/citygate"
# Run once from cmdline.txt (systemd.run=…): take it out so the next boot is normal.
for c in "$ROOT/boot/firmware/cmdline.txt" "$ROOT/boot/cmdline.txt"; do
  [ -f "$c" ] && grep -q 'citygate/firstboot.sh' "$c" && sed -i 's| systemd.run=[^ ]*citygate/firstboot.sh[^ ]*||; s| systemd.run_success_action=[^ ]*||; s| systemd.unit=kernel-command-line.target||' "$c"
done

: > "$REPORT.new"
log() { echo "$*" | tee -a "$REPORT.new"; }
finish() {
  log ""
  log "result: $1"
  # FAT has no atomic rename over an existing file on every kernel: remove, then move.
  rm -f "$REPORT" && mv "$REPORT.new" "$REPORT"
  sync
  [ "$1" = OK ] && exit 0 || exit 1
}
log "citygate first boot — $(date -u '+%Y-%m-%d %H:%M:%S UTC') (the clock may be wrong until NTP syncs)"
log "host $(hostname 2>/dev/null || echo ?) · boot folder $BOOT_DIR"
log ""

# 0. the release signing keys, if the card brings any (public keys: they stay on the card)
KEYS="$ROOT/etc/citygate/keys"
[ -d "$ROOT/etc/citygate" ] || install -d -m 0750 -o 0 -g 0 "$ROOT/etc/citygate"
install -d -m 0755 -o 0 -g 0 "$KEYS"
for k in "$BOOT_DIR"/keys/*.pub; do
  [ -f "$k" ] || continue
  if grep -q 'BEGIN PUBLIC KEY' "$k"; then install -m 0644 -o 0 -g 0 "$k" "$KEYS/$(basename "$k")" && log "key: trusting keys/$(basename "$k")"
  else log "key: keys/$(basename "$k") is not a PEM public key: ignored"; fi
done

# Checks a signature file (src/release/signature.ts: a header, `signature ed25519 <key id>
# <base64>` lines, the signed manifest as one JSON line) against the trusted keys, and
# the bundle copy against the SHA-256 the manifest pins. Prints the reason it refuses.
verify_signed() { # bundle-copy sig-file
  local b="$1" sig="$2" work id s k want ok="" known=""
  [ -f "$sig" ] || { echo "unsigned: $(basename "$sig") is missing"; return 1; }
  command -v openssl >/dev/null || { echo "openssl is missing: cannot check the signature"; return 1; }
  work=$(mktemp -d "$ROOT/var/tmp/citygate-verify.XXXXXX")
  grep -m1 '^{' "$sig" | tr -d '\n' >"$work/payload"
  while read -r _ _ id s; do
    for k in "$KEYS"/*.pub; do
      [ -f "$k" ] && [ "$(openssl pkey -pubin -in "$k" -outform DER 2>/dev/null | sha256sum | cut -c1-16)" = "$id" ] || continue
      known=1
      echo "$s" | base64 -d >"$work/sig" 2>/dev/null &&
        openssl pkeyutl -verify -pubin -inkey "$k" -rawin -in "$work/payload" -sigfile "$work/sig" >/dev/null 2>&1 && ok="$id"
    done
  done < <(grep '^signature ed25519 ' "$sig")
  want=$(sed -n 's/.*"sha256":"\([0-9a-f]\{64\}\)".*/\1/p' "$work/payload")
  rm -rf "$work"
  [ -n "$ok" ] || { [ -n "$known" ] && echo "bad signature" || echo "not signed by a trusted key (put the release public key in citygate/keys/ on the card)"; return 1; }
  [ "$(sha256sum "$b" | cut -d' ' -f1)" = "$want" ] || { echo "hash mismatch: not the bundle its signature vouches for (a bad copy?)"; return 1; }
  echo "signed by key $ok"
}

# A gateway that never had a valid config of its own must not start on the example one
# the bundle's installer puts in place (see the validation failure below).
[ -f "$ROOT/etc/citygate/gateway.yaml" ] && had_config=1 || had_config=0

# 1. the bundle, if one came with the card: copied off the card first, checked, and that copy unpacked
bundle=$(find "$BOOT_DIR" -maxdepth 1 -name 'citygate-*.tar.gz' | sort | tail -1)
if [ -n "$bundle" ]; then
  log "bundle: $(basename "$bundle")"
  tmp=$(mktemp -d "$ROOT/var/tmp/citygate-firstboot.XXXXXX")
  cp "$bundle" "$tmp/bundle.tar.gz"
  if ! why=$(verify_signed "$tmp/bundle.tar.gz" "$bundle.sig"); then log "  FAILED: $why; nothing installed"; bundle_failed=1
  else
    log "  $why"
    mkdir "$tmp/x"
    if tar -C "$tmp/x" --no-same-owner -xzf "$tmp/bundle.tar.gz" && out=$(ROOT="$ROOT" "$tmp"/x/citygate-*/install.sh 2>&1); then
      log "  installed: $(echo "$out" | sed -n 's/^citygate: current release: //p')"
      rm -f "$bundle" "$bundle.sig" "$bundle.sha256"
    else
      log "  FAILED to install:"; log "$(echo "${out:-tar failed}" | sed 's/^/    /')"; bundle_failed=1
    fi
  fi
  rm -rf "$tmp"
fi
if [ ! -e "$PREFIX/current/bin/citygate.js" ]; then
  log "FAILED: citygate is not installed and no usable bundle is on the card"
  rm -f "$BOOT_DIR/env" "$BOOT_DIR/secrets.yaml" "$BOOT_DIR"/*.key 2>/dev/null
  finish FAILED
fi

# 2. config, secrets and certificates into /etc/citygate
# shellcheck source=deploy/lib/common.sh
. "$PREFIX/current/deploy/lib/common.sh"
ensure_user >/dev/null
ensure_dirs
owner=$(cg_owner)
moved=()
put() { # file mode owner
  install -m "$2" -o "${3%:*}" -g "${3#*:}" "$BOOT_DIR/$1" "$CONF/$1" && moved+=("$1 ($2)")
}
[ -f "$BOOT_DIR/env" ] && put env 0600 0:0
[ -f "$BOOT_DIR/secrets.yaml" ] && put secrets.yaml 0600 "$owner"
for f in "$BOOT_DIR"/*.key; do [ -f "$f" ] && put "$(basename "$f")" 0640 "0:${owner#*:}"; done
for f in "$BOOT_DIR"/*.pem "$BOOT_DIR"/*.crt; do [ -f "$f" ] && put "$(basename "$f")" 0644 0:0; done
# Secrets never stay on the FAT partition (anyone with the card can read it).
rm -f "$BOOT_DIR/env" "$BOOT_DIR/secrets.yaml" "$BOOT_DIR"/*.key
[ ${#moved[@]} -eq 0 ] || log "moved to /etc/citygate: ${moved[*]}; secrets removed from the boot partition"
[ -f "$CONF/env" ] || install -m 0600 -o 0 -g 0 /dev/null "$CONF/env"

# 3. validate, then install the config and start
if [ ! -f "$BOOT_DIR/gateway.yaml" ]; then
  [ -f "$CONF/gateway.yaml" ] || { log "FAILED: no gateway.yaml on the card and none installed"; finish FAILED; }
  log "no new gateway.yaml: keeping $CONF/gateway.yaml"
  cfg="$CONF/gateway.yaml"
else
  cfg="$BOOT_DIR/gateway.yaml"
fi
log ""
log "validate:"
out=$(set -a; . "$CONF/env"; set +a; cd "$BOOT_DIR" &&
  "$PREFIX/current/node/bin/node" "$PREFIX/current/bin/citygate.js" validate --strict-env "$cfg" 2>&1)
status=$?
log "$(echo "$out" | sed "s#^$BOOT_DIR/##; s/^/  /")"
if [ $status -ne 0 ] || [ -n "${bundle_failed:-}" ]; then
  log ""
  log "not started: fix gateway.yaml on the card (the lines above say where) and reboot"
  if [ "$had_config" = 0 ]; then
    # Nothing valid was ever applied: take out the installer's example and keep the
    # service from starting on it at the next boot (a valid card enables it again).
    rm -f "$CONF/gateway.yaml"
    if [ -z "$ROOT" ] && [ -d /run/systemd/system ]; then systemctl disable citygate.service >/dev/null 2>&1
    else rm -f "$ROOT/etc/systemd/system/multi-user.target.wants/citygate.service"; fi
    log "citygate.service is disabled until a valid gateway.yaml is applied"
  fi
  finish FAILED
fi
if [ "$cfg" != "$CONF/gateway.yaml" ]; then
  install -m 0640 -o 0 -g "${owner#*:}" "$cfg" "$CONF/gateway.yaml"
  mv "$cfg" "$cfg.applied"
fi
install_system_files "$PREFIX/current" >/dev/null
if [ -z "$ROOT" ] && [ -d /run/systemd/system ]; then
  systemctl enable citygate.service citygate-firstboot.service >/dev/null 2>&1
  systemctl restart --no-block citygate.service && log "" && log "citygate.service started: \`citygate status\` over SSH shows its health"
else
  log "" && log "citygate.service enabled (starts at boot)"
fi
finish OK

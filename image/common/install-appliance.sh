#!/usr/bin/env bash
# Installs the appliance into the root file system it runs in. Both image builds
# call this one script inside their target (pi-gen's on_chroot, the Debian test
# image's chroot), so what CI boots is what users flash.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: install-appliance.sh --wheels DIR

Run as root inside the target root file system (a chroot of it). DIR holds the
appliance wheel (webthing_appliance-*.whl), the wheels of its dependencies for
this machine (fetched on the build host: nothing is compiled here) and
requirements-pi.txt. This script's own folder must hold files/ beside it.

Installs:
  /opt/appliance                      virtual environment (system site packages)
  /usr/local/bin/appliance            the appliance command
  /etc/appliance/appliance.toml       configuration (kept if it already exists)
  /usr/local/lib/appliance/apply-settings and appliance-settings.service
                                      read /boot/firmware/appliance-settings.toml
  appliance.service                   runs `appliance serve` as user appliance
  /boot/firmware/appliance-settings.toml  the settings a user edits before boot
USAGE
}

wheels=""
while (($#)); do
  case "$1" in
    --wheels) wheels="${2:?--wheels needs a folder}"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install-appliance.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
[[ -n "$wheels" ]] || { usage >&2; exit 2; }
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
files="$here/files"

shopt -s nullglob
app_wheels=("$wheels"/webthing_appliance-*.whl)
if ((${#app_wheels[@]} != 1)); then
  echo "install-appliance.sh: expected exactly one webthing_appliance-*.whl in $wheels," \
       "found ${#app_wheels[@]}; build it with 'pip wheel --no-deps -w $wheels .'" >&2
  exit 1
fi

step() { printf '[install-appliance] %s\n' "$*"; }

step "system user 'appliance'"
# GPIO character devices belong to group gpio on Pi OS (udev rule 99-com.rules);
# Debian has no such group or rule, so both are made here for a real Pi.
getent group gpio >/dev/null || groupadd --system gpio
if [[ ! -e /etc/udev/rules.d/99-com.rules && ! -e /etc/udev/rules.d/60-appliance-gpio.rules ]]; then
  install -m 0644 "$files/60-appliance-gpio.rules" /etc/udev/rules.d/60-appliance-gpio.rules
fi
id appliance >/dev/null 2>&1 || \
  useradd --system --user-group --home-dir /var/lib/appliance --no-create-home \
          --shell /usr/sbin/nologin --comment "Web of Things appliance" appliance
for group in gpio i2c spi; do
  if getent group "$group" >/dev/null; then usermod -a -G "$group" appliance; fi
done

step "virtual environment /opt/appliance"
# System site packages: Pi OS ships GPIO libraries as Debian packages, and the
# venv should see them; pip still installs what the appliance pins itself.
python3 -m venv --system-site-packages /opt/appliance
/opt/appliance/bin/pip install --quiet --no-index --no-cache-dir --disable-pip-version-check \
  --find-links "$wheels" "${app_wheels[0]}[pi,uvloop,mqtt]" -r "$files/requirements-pi.txt"
ln -sf /opt/appliance/bin/appliance /usr/local/bin/appliance

step "configuration and settings"
install -d -m 0755 /etc/appliance /usr/local/lib/appliance
# An existing config is the user's (an image rebuilt over an old root keeps it).
# Readable by the appliance only: it may hold bearer tokens.
[[ -e /etc/appliance/appliance.toml ]] || \
  install -m 0640 -g appliance "$files/appliance.toml" /etc/appliance/appliance.toml
install -m 0755 "$files/apply-settings" /usr/local/lib/appliance/apply-settings
install -d -m 0755 /boot/firmware
[[ -e /boot/firmware/appliance-settings.toml ]] || \
  install -m 0644 "$files/appliance-settings.toml" /boot/firmware/appliance-settings.toml
# Fail the build, not the first boot, if the shipped config is not valid.
/opt/appliance/bin/appliance check-config --config /etc/appliance/appliance.toml

step "systemd units"
install -m 0644 "$files/appliance.service" "$files/appliance-settings.service" /etc/systemd/system/
systemctl enable appliance.service appliance-settings.service
step "done: $(/opt/appliance/bin/pip list --disable-pip-version-check --format=freeze 2>/dev/null \
  | grep -i '^webthing-appliance==')"

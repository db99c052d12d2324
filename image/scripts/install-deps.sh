#!/usr/bin/env bash
# Installs the Debian packages that `make image-test` needs, when any is missing.
# CI machines start fresh, so the build must bring its own tools; a machine that
# already has them pays one dpkg query per package and nothing else.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: install-deps.sh [--check]

Installs (with apt-get, as root) what building and booting the test image needs:
mmdebstrap, qemu-user-static and binfmt-support (run arm64 maintainer scripts),
qemu-system-arm (boot the image), dosfstools, mtools, fdisk, e2fsprogs (assemble
it without loop devices), dnsmasq-base and iproute2 (the test's network), and
shellcheck (lint the pi-gen stage). Also makes sure binfmt_misc is mounted and
the aarch64 handler is enabled.

  --check   only report what is missing; exit 1 if anything is
USAGE
}

check_only=0
case "${1:-}" in
  -h|--help) usage; exit 0 ;;
  --check) check_only=1 ;;
  "") ;;
  *) echo "install-deps.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
esac

packages=(
  mmdebstrap qemu-user-static binfmt-support arch-test
  qemu-system-arm ipxe-qemu
  dosfstools mtools fdisk e2fsprogs
  dnsmasq-base iproute2
  shellcheck zstd ca-certificates
)

missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done

if ((${#missing[@]})); then
  if ((check_only)); then
    echo "missing Debian packages: ${missing[*]} (run image/scripts/install-deps.sh as root)" >&2
    exit 1
  fi
  if ((EUID != 0)); then
    echo "install-deps.sh: need root to install ${missing[*]}; rerun with sudo" >&2
    exit 1
  fi
  echo "==> installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Foreign-architecture maintainer scripts run through binfmt_misc; containers and
# fresh VMs often lack the mount, and then every arm64 binary fails with ENOEXEC.
if [[ ! -e /proc/sys/fs/binfmt_misc/status ]]; then
  if ((check_only)); then
    echo "binfmt_misc is not mounted" >&2; exit 1
  fi
  mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
fi
if [[ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]]; then
  if ((check_only)); then
    echo "the qemu-aarch64 binfmt handler is not registered" >&2; exit 1
  fi
  update-binfmts --enable qemu-aarch64 2>/dev/null || update-binfmts --import qemu-aarch64
fi
if ! arch-test arm64 >/dev/null 2>&1; then
  echo "install-deps.sh: arm64 binaries still do not run (arch-test arm64 fails);" \
       "check /proc/sys/fs/binfmt_misc/qemu-aarch64" >&2
  exit 1
fi

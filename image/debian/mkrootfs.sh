#!/usr/bin/env bash
# Builds the test image's base root file system (Debian packages only, no
# appliance) as a tarball with mmdebstrap. build-image.sh caches the result under
# a hash of this script and everything it reads.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: mkrootfs.sh OUTPUT.tar

Environment: SUITE (bookworm), MIRROR (http://deb.debian.org/debian).
Needs root, mmdebstrap, and binfmt_misc running arm64 binaries (qemu-user-static).
USAGE
}
case "${1:-}" in -h|--help) usage; exit 0 ;; "") usage >&2; exit 2 ;; esac
out="$1"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
suite="${SUITE:-bookworm}"
mirror="${MIRROR:-http://deb.debian.org/debian}"

packages="$(grep -v '^#' "$here/packages.txt" | grep . | paste -sd, -)"
# The kernel is installed last (a customize hook below): installed with the rest,
# its initramfs is built twice, once by its own postinst and once more by the
# trigger of every later package that ships initramfs hooks.

# mmdebstrap expands $1 in hooks itself (the root being built).
# shellcheck disable=SC2016
# Documentation, man pages and translations are not needed on an appliance and
# cost space and (emulated) unpacking time; copyright files stay.
mmdebstrap --arch=arm64 --variant=apt --mode=root --format=tar \
  --components=main,non-free-firmware \
  --include="$packages" \
  --aptopt='Acquire::Retries "3"' \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  --setup-hook='mkdir -p "$1/boot/firmware"' \
  --setup-hook="sync-in '$here/overlay' /" \
  --customize-hook='chroot "$1" env DEBIAN_FRONTEND=noninteractive apt-get install --yes --quiet=2 --no-install-recommends linux-image-arm64' \
  --customize-hook="'$here/customize-rootfs.sh' \"\$1\"" \
  "$suite" "$out" "deb $mirror $suite main non-free-firmware" \
  "deb $mirror $suite-updates main non-free-firmware" \
  "deb ${mirror%/debian}/debian-security $suite-security main non-free-firmware"

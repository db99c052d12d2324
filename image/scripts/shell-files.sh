#!/usr/bin/env bash
# Prints the shell files under image/ (relative to image/), for shellcheck: the
# scripts, the pi-gen stage (config and EXPORT_IMAGE are sourced shell) and the
# initramfs hook. One list, so `make lint` and the test suite check the same files.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
{
  find scripts common debian stage-appliance -type f \( -name '*.sh' -o -name EXPORT_IMAGE \)
  echo pi-gen/config
  echo common/install-appliance.sh
  echo debian/overlay/etc/initramfs-tools/hooks/appliance-modules
} | LC_ALL=C sort -u

#!/usr/bin/env bash
# `make image-test`: build the Debian arm64 test image from this tree, boot it in
# QEMU and check the appliance from outside (tests/image/), printing each step's
# time and the total.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: image-test.sh [--image PATH] [--no-build]

  --image PATH   where the image is built (default image/build/webthing-appliance-debian-arm64.img)
  --no-build     boot an image built before instead of building one

Run as root (mmdebstrap, chroot, a network namespace and a tap device).
Environment: PYTEST (default .venv/bin/pytest of the repository),
IMAGE_CACHE (default /var/cache/appliance-image), APPLIANCE_BOOT_TIMEOUT (480 s).
USAGE
}

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
image_dir="$(dirname "$here")"
repo="$(dirname "$image_dir")"
image="$image_dir/build/webthing-appliance-debian-arm64.img"
build=1
while (($#)); do
  case "$1" in
    --image) image="$(realpath -m "${2:?--image needs a path}")"; shift 2 ;;
    --no-build) build=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "image-test.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
# shellcheck source=lib.sh
. "$here/lib.sh"
((EUID == 0)) || die "make image-test needs root (mmdebstrap, chroot, network namespace); rerun with sudo"
pytest="${PYTEST:-$repo/.venv/bin/pytest}"
[[ -x "$pytest" ]] || die "no pytest at $pytest: run 'make install' at the top of the repository"

if ((build)); then
  "$image_dir/debian/build-image.sh" --out "$image"
else
  [[ -f "$image" ]] || die "no image at $image: build one (drop --no-build)"
fi

step "boot the image in QEMU and check it (tests/image)"
cd "$repo"
status=0
base_rootfs="$(cat "$image_dir/build/debian/base-rootfs" 2>/dev/null || true)"
APPLIANCE_IMAGE="$image" APPLIANCE_BASE_ROOTFS="$base_rootfs" \
  APPLIANCE_WHEELS="$image_dir/build/debian/wheels" "$pytest" -v -s -p no:cacheprovider --durations=0 tests/image || status=$?
step_end
printf '\n==> make image-test: %s in %s\n' "$( ((status == 0)) && echo passed || echo FAILED)" \
  "$(elapsed $((SECONDS - build_started)))"
exit "$status"

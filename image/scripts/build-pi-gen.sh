#!/usr/bin/env bash
# `make image`: builds the user's image, Raspberry Pi OS Lite (64-bit, bookworm)
# with the appliance, by running pi-gen's Docker build with this folder's stage.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: build-pi-gen.sh

Clones pi-gen at a pinned ref into image/build/pi-gen, fetches the wheels
(image/build/wheels), and runs pi-gen's build-docker.sh with image/pi-gen/config
plus STAGE_LIST="stage0 stage1 stage2 <abs path>/image/stage-appliance".
The finished image lands in image/build/pi-gen/deploy/.

Needs Docker (pi-gen builds in a privileged container), git, binfmt_misc with
qemu-user-static on a non-arm64 host, and network access to Raspberry Pi's and
Debian's archives and to PyPI.

Environment:
  PI_GEN_REPO   pi-gen's git URL (default https://github.com/RPi-Distro/pi-gen.git)
  PI_GEN_REF    tag or branch to build with (default 2024-11-19-raspios-bookworm-arm64)
  CONTINUE=1    reuse a stopped build container (pi-gen's own option)
USAGE
}
case "${1:-}" in -h|--help) usage; exit 0 ;; "") ;; *) usage >&2; exit 2 ;; esac

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
image_dir="$(dirname "$here")"
# shellcheck source=lib.sh
. "$here/lib.sh"
repo_url="${PI_GEN_REPO:-https://github.com/RPi-Distro/pi-gen.git}"
# The arm64 release tag of the Pi OS bookworm image this stage is tested with;
# bookworm's python3 is 3.11, which the wheels are fetched for.
ref="${PI_GEN_REF:-2024-11-19-raspios-bookworm-arm64}"
pigen="$image_dir/build/pi-gen"

command -v docker >/dev/null || die "pi-gen's build needs Docker: install docker.io (or Docker Engine) and retry"
docker info >/dev/null 2>&1 || die "Docker is installed but its engine does not answer (is dockerd running, are you in group docker?)"
command -v git >/dev/null || die "git is needed to fetch pi-gen"

step "pi-gen $ref"
if [[ -d "$pigen/.git" ]] && [[ "$(git -C "$pigen" describe --tags --exact-match 2>/dev/null)" == "$ref" ]]; then
  echo "already checked out: $pigen"
else
  rm -rf "$pigen"
  git clone --quiet --depth 1 --branch "$ref" "$repo_url" "$pigen"
fi
# Only the appliance stage's image is wanted, not stage2's plain Lite image.
touch "$pigen/stage2/SKIP_IMAGES"

step "wheels"
"$here/fetch-wheels.sh" --out "$image_dir/build/wheels"

step "pi-gen build (Docker)"
config="$image_dir/build/pi-gen.config"
{
  cat "$image_dir/pi-gen/config"
  echo "STAGE_LIST=\"stage0 stage1 stage2 $image_dir/stage-appliance\""
} >"$config"
# The container sees image/ at the same absolute path, so STAGE_LIST and the
# stage's reach for ../common and ../build/wheels work inside it.
cd "$pigen"
PIGEN_DOCKER_OPTS="${PIGEN_DOCKER_OPTS:-} --volume $image_dir:$image_dir:ro" \
  ./build-docker.sh -c "$config"
step_end
echo
echo "==> images in $pigen/deploy:"
ls -lh "$pigen/deploy"

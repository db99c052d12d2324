#!/usr/bin/env bash
# The files a GitHub release carries: the pi-gen image under a name with the
# version, and its SHA-256 in the format `sha256sum -c` reads.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: release-files.sh --tag TAG [--deploy DIR] [--out DIR]

  --tag TAG     the release's git tag, v<version> (e.g. v0.1.0); the version must
                be pyproject.toml's
  --deploy DIR  where pi-gen left the image (default image/build/pi-gen/deploy),
                one image_<date>-webthing-appliance-appliance.img.xz
  --out DIR     where to write the release files (default image/build/release)

Writes webthing-appliance-<version>-arm64.img.xz and
webthing-appliance-<version>-arm64.img.xz.sha256 to DIR; after downloading both,
`sha256sum -c webthing-appliance-<version>-arm64.img.xz.sha256` checks the image.
USAGE
}

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
image_dir="$(dirname "$here")"
repo="$(dirname "$image_dir")"
tag="" deploy="$image_dir/build/pi-gen/deploy" out="$image_dir/build/release"
while (($#)); do
  case "$1" in
    --tag) tag="${2:?--tag needs a tag}"; shift 2 ;;
    --deploy) deploy="${2:?--deploy needs a folder}"; shift 2 ;;
    --out) out="${2:?--out needs a folder}"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "release-files.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
[[ -n "$tag" ]] || { usage >&2; exit 2; }
# shellcheck source=lib.sh
. "$here/lib.sh"

version="$(sed -n 's/^version = "\(.*\)"$/\1/p' "$repo/pyproject.toml" | head -n 1)"
[[ "$tag" == "v$version" ]] || die "tag $tag does not name this version: pyproject.toml says $version (tag v$version)"

shopt -s nullglob
images=("$deploy"/*.img.xz)
((${#images[@]} == 1)) || die "expected one .img.xz in $deploy (run make image), found ${#images[@]}"

name="webthing-appliance-$version-arm64.img.xz"
mkdir -p "$out"
cp "${images[0]}" "$out/$name"
(cd "$out" && sha256sum "$name" >"$name.sha256")
echo "release files in $out:"
(cd "$out" && ls -l "$name" "$name.sha256" && cat "$name.sha256")

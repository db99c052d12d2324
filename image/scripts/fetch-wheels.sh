#!/usr/bin/env bash
# Puts the appliance wheel, built fresh from this tree, and the arm64 wheels of its
# dependencies into one folder for the image's install step. Nothing is compiled
# for arm64: every dependency must have a binary wheel for the target.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: fetch-wheels.sh --out DIR [--cache DIR]

  --out DIR     folder to fill (emptied first): webthing_appliance-*.whl plus
                the arm64 wheels of its dependencies and of requirements-pi.txt
  --cache DIR   where dependency wheelhouses are kept between runs
                (default: $IMAGE_CACHE or /var/cache/appliance-image)

Environment: PYTHON (default python3) builds the wheel and runs pip download;
TARGET_PYTHON (default 3.11, Debian bookworm's and Pi OS bookworm's python3) and
TARGET_GLIBC (default 2_36, bookworm's) pick the arm64 wheels.

The appliance wheel is always rebuilt, never cached. The dependency wheels are
cached under a key hashed from the wheel's Requires-Dist lines,
requirements-pi.txt and the target, so a dependency change fetches anew.
USAGE
}

out="" cache="${IMAGE_CACHE:-/var/cache/appliance-image}"
while (($#)); do
  case "$1" in
    --out) out="${2:?--out needs a folder}"; shift 2 ;;
    --cache) cache="${2:?--cache needs a folder}"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "fetch-wheels.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
[[ -n "$out" ]] || { usage >&2; exit 2; }

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
requirements="$here/../common/files/requirements-pi.txt"
# The extras install-appliance.sh installs: keep the two in step.
extras="pi,uvloop,mqtt"
python="${PYTHON:-python3}"
target_python="${TARGET_PYTHON:-3.11}"
target_glibc="${TARGET_GLIBC:-2_36}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Build from a copy of the tracked and new (not ignored) files only: setuptools
# reuses a build/ folder in the source tree, and a module deleted from the tree
# but left there would otherwise ship in the image.
mkdir -p "$work/src"
if git -C "$repo" rev-parse --git-dir >/dev/null 2>&1; then
  git -C "$repo" ls-files -z --cached --others --exclude-standard \
    | tar -C "$repo" --null -T - --ignore-failed-read -cf - 2>/dev/null \
    | tar -C "$work/src" -xf -
else
  tar -C "$repo" --exclude=./build --exclude=./.venv --exclude='*.egg-info' -cf - . \
    | tar -C "$work/src" -xf -
fi
"$python" -m pip wheel --quiet --no-deps --disable-pip-version-check \
  -w "$work/app" "$work/src" >"$work/build.log" 2>&1 || {
  cat "$work/build.log" >&2
  echo "fetch-wheels.sh: building the appliance wheel from $repo failed (log above)" >&2
  exit 1
}
app_wheel=("$work"/app/webthing_appliance-*.whl)

# What the dependency set depends on: the wheel's declared requirements, the
# image's extra requirements and the target. Not the appliance's own code.
key="$("$python" - "${app_wheel[0]}" "$requirements" "$extras" "$target_python" "$target_glibc" <<'PY'
import hashlib, sys, zipfile
wheel, requirements, extras, *target = sys.argv[1:]
with zipfile.ZipFile(wheel) as zf:
    meta = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
    requires = sorted(l for l in zf.read(meta).decode().splitlines()
                      if l.startswith("Requires-Dist:"))
h = hashlib.sha256()
for part in (*requires, open(requirements).read(), extras, *target):
    h.update(part.encode() + b"\0")
print(h.hexdigest()[:16])
PY
)"
deps="$cache/wheels-$key"
if [[ -d "$deps" ]]; then
  echo "dependency wheels: cached ($deps)"
else
  echo "dependency wheels: fetching for CPython $target_python, manylinux_${target_glibc}_aarch64"
  mkdir -p "$cache"
  # pip takes --platform tags literally: name every manylinux tag the target's
  # glibc satisfies (2.17 is manylinux2014).
  platforms=(--platform manylinux2014_aarch64)
  for ((minor = 17; minor <= ${target_glibc#2_}; minor++)); do
    platforms+=(--platform "manylinux_2_${minor}_aarch64")
  done
  "$python" -m pip download --quiet --disable-pip-version-check --only-binary=:all: \
    "${platforms[@]}" \
    --python-version "$target_python" --implementation cp \
    -d "$work/deps" "${app_wheel[0]}[$extras]" -r "$requirements" 2> >(grep -v "^WARNING: Location" >&2) || {
      echo "fetch-wheels.sh: pip download failed; every dependency needs an aarch64 wheel" \
           "for CPython $target_python (see above)" >&2
      exit 1
    }
  rm -f "$work"/deps/webthing_appliance-*.whl
  # Publish the finished set in one rename: an interrupted run leaves no half cache.
  mv "$work/deps" "$deps.tmp.$$" && mv -T "$deps.tmp.$$" "$deps"
fi

rm -rf "$out"
mkdir -p "$out"
cp "$deps"/*.whl "$out"/
cp "${app_wheel[0]}" "$out"/
echo "wheels: $(find "$out" -name '*.whl' | wc -l) in $out, appliance $(basename "${app_wheel[0]}")"

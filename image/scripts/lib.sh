# shellcheck shell=bash
# Shared by image/ scripts: timed build steps and a cache-key hash.

build_started=${build_started:-$SECONDS}

# step NAME: close the previous step (printing its time) and announce the next.
step() {
  step_end
  step_name="$1"
  step_started=$SECONDS
  printf '\n==> [%s] %s\n' "$(elapsed $((SECONDS - build_started)))" "$step_name"
}

# step_end: print how long the current step took (once).
step_end() {
  if [[ -n "${step_name:-}" ]]; then
    printf '    %s: %s\n' "$step_name" "$(elapsed $((SECONDS - step_started)))"
    step_name=""
  fi
}

elapsed() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

# hash_inputs DIR PATH...: one short sha256 over the names (relative to DIR) and
# contents of the files under PATH..., so a cache key changes with any of them
# and not with where the checkout lives.
hash_inputs() {
  local dir="$1"; shift
  (cd "$dir" && find "$@" -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) \
    | sha256sum | cut -c1-16
}

die() { echo "error: $*" >&2; exit 1; }

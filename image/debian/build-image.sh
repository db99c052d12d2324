#!/usr/bin/env bash
# Builds the CI test image: an arm64 Raspberry Pi image from Debian's archive
# alone (raspi-firmware + linux-image-arm64, partitions RASPIFIRM and RASPIROOT),
# with the appliance installed by the same script as the pi-gen stage. The image
# is assembled from partition files with dd: no loop devices, no mounts of it.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: build-image.sh [--out IMAGE] [--work DIR] [--cache DIR]

  --out IMAGE   the image to write (default image/build/webthing-appliance-debian-arm64.img)
  --work DIR    scratch folder (default image/build/debian)
  --cache DIR   base root file systems and wheels kept between runs
                (default $IMAGE_CACHE or /var/cache/appliance-image)

Run as root. Missing Debian packages are installed by install-deps.sh first.
The base root file system (Debian packages only) is cached under a hash of
debian/packages.txt, debian/overlay/, the scripts that build it, the suite and
the ISO week (so security updates arrive weekly); the appliance is always
installed fresh from this tree.
USAGE
}

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
image_dir="$(dirname "$here")"
out="$image_dir/build/webthing-appliance-debian-arm64.img"
work="$image_dir/build/debian"
cache="${IMAGE_CACHE:-/var/cache/appliance-image}"
while (($#)); do
  case "$1" in
    --out) out="${2:?--out needs a path}"; shift 2 ;;
    --work) work="${2:?--work needs a folder}"; shift 2 ;;
    --cache) cache="${2:?--cache needs a folder}"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "build-image.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
# shellcheck source=../scripts/lib.sh
. "$image_dir/scripts/lib.sh"
((EUID == 0)) || die "build-image.sh needs root (mmdebstrap, chroot, file ownership); rerun with sudo"

# Boot partition: FAT32 (the Pi firmware reads it), 256 MiB like Debian's images.
boot_mib=256
# First partition at 4 MiB: SD cards erase in blocks this size.
align_mib=4

step "build tools"
"$image_dir/scripts/install-deps.sh"

step "wheels (appliance from this tree, arm64 dependencies)"
"$image_dir/scripts/fetch-wheels.sh" --out "$work/wheels" --cache "$cache"

step "base root file system (Debian packages)"
suite="${SUITE:-bookworm}" mirror="${MIRROR:-http://deb.debian.org/debian}"
key="$(hash_inputs "$image_dir" debian/packages.txt debian/overlay debian/mkrootfs.sh \
        debian/customize-rootfs.sh | { cat; echo "$suite $mirror $(date +%G-W%V)"; } \
        | sha256sum | cut -c1-16)"
rootfs_tar="$cache/rootfs-$suite-arm64-$key.tar"
if [[ -f "$rootfs_tar" ]]; then
  echo "cached: $rootfs_tar"
else
  mkdir -p "$cache"
  SUITE="$suite" MIRROR="$mirror" "$here/mkrootfs.sh" "$rootfs_tar.partial"
  mv "$rootfs_tar.partial" "$rootfs_tar"
  # Older base trees are of no further use.
  find "$cache" -maxdepth 1 -name 'rootfs-*.tar' ! -name "$(basename "$rootfs_tar")" -delete
fi

# Tell the tests which base root the image was built on (they run the pi-gen stage on it).
echo "$rootfs_tar" >"$work/base-rootfs"

step "unpack root file system"
rootfs="$work/rootfs"
rm -rf "$rootfs"
mkdir -p "$rootfs"
tar -C "$rootfs" --numeric-owner -xpf "$rootfs_tar"

step "install the appliance (common/install-appliance.sh, as pi-gen does)"
staging="$rootfs/tmp/appliance-install"
mkdir -p "$staging"
cp -r "$image_dir/common/." "$staging/"
cp -r "$work/wheels" "$staging/wheels"
# shellcheck disable=SC2016  # expanded by the inner bash
# A private mount namespace: /proc, /sys and /dev for the chroot vanish with it,
# even if the install fails half way.
unshare --mount --propagation private -- bash -euo pipefail -c '
  root="$1"
  mount -t proc proc "$root/proc"
  mount -t sysfs sysfs "$root/sys"
  mount --rbind /dev "$root/dev"
  chroot "$root" /tmp/appliance-install/install-appliance.sh --wheels /tmp/appliance-install/wheels
' _ "$rootfs"
rm -rf "$staging"

step "boot partition RASPIFIRM (FAT32, mtools)"
boot_part="$work/boot.part"
rm -f "$boot_part"
mkfs.vfat -C -F 32 -n RASPIFIRM "$boot_part" $((boot_mib * 1024)) >/dev/null
# mcopy copies the folder's contents when given "dir/." ; -s recurses, -p keeps times.
MTOOLS_SKIP_CHECK=1 mcopy -s -p -m -i "$boot_part" "$rootfs"/boot/firmware/* ::/
find "$rootfs/boot/firmware" -mindepth 1 -delete
MTOOLS_SKIP_CHECK=1 mdir -i "$boot_part" -b ::/ | sed 's|^::/|    |' | head -40

step "root partition RASPIROOT (ext4 from the folder, mke2fs -d)"
root_part="$work/root.part"
rm -f "$root_part"
used_mib=$(du -s --block-size=1M "$rootfs" | cut -f1)
# Room for ext4's own metadata, the journal, logs and the appliance's state.
root_mib=$(((used_mib * 115 / 100 + 256 + align_mib - 1) / align_mib * align_mib))
mke2fs -q -t ext4 -L RASPIROOT -d "$rootfs" -E root_owner=0:0 "$root_part" "${root_mib}M"
echo "    root: ${used_mib} MiB of files in a ${root_mib} MiB file system"

step "assemble the image (sfdisk on the file, dd the partitions in)"
total_mib=$((align_mib + boot_mib + root_mib))
mkdir -p "$(dirname "$out")"
rm -f "$out.partial"
truncate -s "${total_mib}M" "$out.partial"
sector=512
boot_start=$((align_mib * 1024 * 1024 / sector))
root_start=$(((align_mib + boot_mib) * 1024 * 1024 / sector))
sfdisk --quiet "$out.partial" <<PARTITIONS
label: dos
unit: sectors
start=$boot_start, size=$((boot_mib * 2048)), type=c, bootable
start=$root_start, size=$((root_mib * 2048)), type=83
PARTITIONS
dd if="$boot_part" of="$out.partial" bs=4M seek=$((boot_start * sector)) oflag=seek_bytes \
   conv=notrunc,sparse status=none
dd if="$root_part" of="$out.partial" bs=4M seek=$((root_start * sector)) oflag=seek_bytes \
   conv=notrunc,sparse status=none
mv "$out.partial" "$out"
# The image holds it all now; the unpacked root alone is most of a gigabyte.
rm -rf "$boot_part" "$root_part" "$rootfs"
sfdisk --list "$out" | sed 's/^/    /'

step_end
printf '\n==> image: %s\n    size: %s (%s allocated, sparse) in %s\n' "$out" \
  "$(du -h --apparent-size "$out" | cut -f1)" "$(du -h "$out" | cut -f1)" \
  "$(elapsed $((SECONDS - build_started)))"

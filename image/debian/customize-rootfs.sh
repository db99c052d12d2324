#!/usr/bin/env bash
# mmdebstrap customize hook for the test image's base root file system: the
# settings of Debian's own Raspberry Pi images that packages don't make.
# Runs on the build host with the root file system's path as $1; arm64 commands
# run in it through chroot and binfmt_misc.
set -euo pipefail
root="${1:?usage: customize-rootfs.sh ROOTFS_DIR (called by mmdebstrap)}"

echo webthing >"$root/etc/hostname"
cat >"$root/etc/hosts" <<'HOSTS'
127.0.0.1	localhost
127.0.1.1	webthing
::1		localhost ip6-localhost ip6-loopback
ff02::1		ip6-allnodes
ff02::2		ip6-allrouters
HOSTS

# Partitions by label, as Debian's raspi images do, so the image boots from SD,
# USB or (in QEMU) virtio alike.
cat >"$root/etc/fstab" <<'FSTAB'
LABEL=RASPIROOT	/		ext4	rw,noatime	0 1
LABEL=RASPIFIRM	/boot/firmware	vfat	rw,noatime	0 2
FSTAB

# raspi-firmware writes cmdline.txt from this; the default names /dev/mmcblk0p2,
# which is not the root on USB boot or in QEMU.
sed -i 's|^#\?ROOTPART=.*|ROOTPART=LABEL=RASPIROOT|' "$root/etc/default/raspi-firmware"
grep -q '^ROOTPART=LABEL=RASPIROOT' "$root/etc/default/raspi-firmware"
kernel="$(basename "$(ls -d "$root"/lib/modules/*)")"
# The hook acts only when told it runs for a package's configure step.
chroot "$root" env DEB_MAINT_PARAMS=configure \
  /etc/kernel/postinst.d/z50-raspi-firmware "$kernel" >/dev/null
grep -q 'root=LABEL=RASPIROOT' "$root/boot/firmware/cmdline.txt"

# systemd-networkd (in systemd already) configures the wired interfaces; no
# ifupdown or DHCP client package is needed.
chroot "$root" systemctl enable systemd-networkd.service >/dev/null 2>&1
# Each boot of a copy of this image gets its own machine-id.
: >"$root/etc/machine-id"

#!/bin/bash -e
# Installs the appliance with the same script the CI test image uses
# (image/common/install-appliance.sh), from wheels fetched on the build host.
# No `set -u`: pi-gen's own helpers (on_chroot) read variables it may leave unset.
set -o pipefail

# pi-gen sets STAGE_DIR to this stage's absolute path; image/ is its parent and
# is mounted at the same path inside pi-gen's container (see image/scripts/build-pi-gen.sh).
image_dir="$(dirname "${STAGE_DIR}")"
wheels="${APPLIANCE_WHEELS:-${image_dir}/build/wheels}"
if ! compgen -G "${wheels}/webthing_appliance-*.whl" >/dev/null; then
	echo "stage-appliance: no appliance wheel in ${wheels}; build with 'make image'," \
	     "which fetches the wheels first" >&2
	exit 1
fi

staging="${ROOTFS_DIR}/tmp/appliance-install"
rm -rf "${staging}"
install -d "${staging}"
cp -r "${image_dir}/common/." "${staging}/"
cp -r "${wheels}" "${staging}/wheels"

on_chroot <<CHROOT
/tmp/appliance-install/install-appliance.sh --wheels /tmp/appliance-install/wheels
CHROOT

rm -rf "${staging}"

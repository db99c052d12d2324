"""Run the pi-gen stage's script the way pi-gen does, on the test image's base root.

pi-gen itself needs Docker and Raspberry Pi's archive; its contract with a stage is small:
it runs `NN-run.sh` from the sub-stage folder with STAGE_DIR and ROOTFS_DIR set and an
`on_chroot` function that runs its standard input as a shell script inside ROOTFS_DIR. This
test provides exactly that (chroot through binfmt_misc) and checks what the stage leaves.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

IMAGE_DIR = Path(__file__).resolve().parents[2] / "image"
STAGE = IMAGE_DIR / "stage-appliance"
BASE = os.environ.get("APPLIANCE_BASE_ROOTFS")
WHEELS = os.environ.get("APPLIANCE_WHEELS")

pytestmark = [
    pytest.mark.image_boot,
    pytest.mark.timeout(600),
    pytest.mark.skipif(
        not (BASE and WHEELS),
        reason="needs the test image's base root and wheels: run `make image-test` as root",
    ),
]

# pi-gen's on_chroot, reduced to what a stage relies on; mounts live in a private namespace.
HARNESS = r"""
set -e
on_chroot() {
  unshare --mount --propagation private -- bash -ec '
    mount -t proc proc "$1/proc"; mount --rbind /dev "$1/dev"; mount -t sysfs sys "$1/sys"
    chroot "$1" /bin/bash -e' _ "$ROOTFS_DIR"
}
export -f on_chroot
cd "$STAGE_DIR/00-appliance"
./01-run.sh
"""


def test_stage_installs_the_appliance(tmp_path: Path):
    assert BASE and WHEELS
    root = tmp_path / "rootfs"
    root.mkdir()
    subprocess.run(["tar", "-C", str(root), "--numeric-owner", "-xpf", BASE], check=True)
    env = {
        **os.environ,
        "STAGE_DIR": str(STAGE),
        "ROOTFS_DIR": str(root),
        "APPLIANCE_WHEELS": WHEELS,
    }
    proc = subprocess.run(["bash", "-c", HARNESS], env=env, capture_output=True, text=True)
    print(proc.stdout)
    assert proc.returncode == 0, proc.stderr
    assert (root / "opt/appliance/bin/appliance").exists()
    assert (root / "etc/systemd/system/multi-user.target.wants/appliance.service").is_symlink()
    assert (root / "boot/firmware/appliance-settings.toml").is_file()
    assert (root / "etc/appliance/appliance.toml").is_file()
    assert not (root / "tmp/appliance-install").exists(), "the stage leaves no staging files"
    cfg = root / "opt/appliance/pyvenv.cfg"
    assert "include-system-site-packages = true" in cfg.read_text()

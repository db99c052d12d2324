"""The pi-gen stage and the shared install files: what pi-gen expects, shellcheck-clean.

pi-gen itself needs Docker and Raspberry Pi's archive, so the suite checks the stage's shape
instead: the files pi-gen looks for, their modes, and the one install script both builds share.
"""

from __future__ import annotations

import shutil
import stat
import subprocess
from pathlib import Path

import pytest

IMAGE = Path(__file__).resolve().parents[2] / "image"
STAGE = IMAGE / "stage-appliance"
SHELLS = {"sh", "bash", "dash"}


def executable(path: Path) -> bool:
    return bool(path.stat().st_mode & stat.S_IXUSR)


def test_stage_has_the_files_pi_gen_runs():
    # pi-gen runs prerun.sh and NN-run.sh only when executable, reads NN-packages,
    # and exports an image after a stage holding EXPORT_IMAGE.
    assert executable(STAGE / "prerun.sh")
    assert "copy_previous" in (STAGE / "prerun.sh").read_text()
    assert (STAGE / "EXPORT_IMAGE").is_file()
    assert "IMG_SUFFIX=" in (STAGE / "EXPORT_IMAGE").read_text()
    sub = STAGE / "00-appliance"
    assert executable(sub / "01-run.sh")
    assert not executable(sub / "00-packages")
    packages = (sub / "00-packages").read_text().split()
    assert "python3-venv" in packages
    for skip in ("SKIP", "SKIP_IMAGES"):
        assert not (STAGE / skip).exists(), f"{skip} would make pi-gen skip the stage"


def test_stage_and_test_image_share_one_install_script():
    run_sh = (STAGE / "00-appliance" / "01-run.sh").read_text()
    build = (IMAGE / "debian" / "build-image.sh").read_text()
    for text in (run_sh, build):
        assert "install-appliance.sh --wheels" in text
    script = IMAGE / "common" / "install-appliance.sh"
    assert executable(script)
    for name in (
        "appliance.service",
        "appliance-settings.service",
        "apply-settings",
        "appliance.toml",
        "appliance-settings.toml",
        "requirements-pi.txt",
    ):
        assert (IMAGE / "common" / "files" / name).is_file(), name
    assert executable(IMAGE / "common" / "files" / "apply-settings")


def test_config_leaves_stage_list_to_the_build_script():
    # STAGE_LIST needs this checkout's absolute path: build-pi-gen.sh appends it.
    config = (IMAGE / "pi-gen" / "config").read_text()
    assert "IMG_NAME=" in config and 'RELEASE="bookworm"' in config
    assert not any(line.startswith("STAGE_LIST") for line in config.splitlines())
    assert "STAGE_LIST=" in (IMAGE / "scripts" / "build-pi-gen.sh").read_text()


def test_unit_runs_the_contracted_command():
    unit = (IMAGE / "common" / "files" / "appliance.service").read_text()
    assert "ExecStart=/opt/appliance/bin/appliance serve --config " in unit
    # Every start rebuilds the config from /etc and the boot partition (edit, then restart),
    # as root ('+') whatever the sandbox, and without touching the host name.
    pre = [line for line in unit.splitlines() if line.startswith("ExecStartPre=")]
    assert "ExecStartPre=+/usr/local/lib/appliance/apply-settings --config-only" in pre
    settings_unit = (IMAGE / "common" / "files" / "appliance-settings.service").read_text()
    assert "ExecStart=/usr/local/lib/appliance/apply-settings\n" in settings_unit
    assert "CAP_NET_BIND_SERVICE" in unit  # port 80 without root
    assert "StateDirectory=appliance" in unit
    config = (IMAGE / "common" / "files" / "appliance.toml").read_text()
    assert "port = 80" in config and 'dir = "/var/lib/appliance"' in config


def test_unit_allows_the_files_the_connection_caps_need():
    from thingtalk.limits import Limits

    unit = (IMAGE / "common" / "files" / "appliance.service").read_text()
    [limit] = [line for line in unit.splitlines() if line.startswith("LimitNOFILE=")]
    assert int(limit.split("=", 1)[1]) >= Limits().files_needed


def shell_files() -> list[str]:
    """The files `make lint` shellchecks (image/scripts/shell-files.sh), relative to image/."""
    return subprocess.run(
        [str(IMAGE / "scripts" / "shell-files.sh")], capture_output=True, text=True, check=True
    ).stdout.split()


def interpreter(path: Path) -> str | None:
    """The program a file's shebang names (`#!/bin/bash -e`: bash; `#!/usr/bin/env sh`: sh)."""
    with path.open("rb") as file:
        first = file.readline().decode(errors="replace")
    if not first.startswith("#!"):
        return None
    words = first[2:].split()
    if words and Path(words[0]).name == "env":
        words = [w for w in words[1:] if not w.startswith("-")]
    return Path(words[0]).name if words else None


def test_every_shell_script_is_linted():
    # Found by shebang, so a new script without .sh (a hook, a stage file) is not missed.
    scripts = {
        str(path.relative_to(IMAGE))
        for path in IMAGE.rglob("*")
        if path.is_file()
        and "build" not in path.relative_to(IMAGE).parts
        and interpreter(path) in SHELLS
    }
    assert {"scripts/image-test.sh", "stage-appliance/00-appliance/01-run.sh"} <= scripts
    missing = sorted(scripts - set(shell_files()))
    assert not missing, f"add {missing} to image/scripts/shell-files.sh"


def test_shellcheck_clean():
    # The scripts build the product's image: unlinted is not "passed", so no shellcheck fails.
    assert shutil.which("shellcheck") is not None, (
        "shellcheck is not installed: apt-get install shellcheck"
    )
    files = shell_files()
    assert "stage-appliance/00-appliance/01-run.sh" in files
    result = subprocess.run(
        ["shellcheck", "-x", "-P", "SCRIPTDIR", *files], cwd=IMAGE, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize(
    "script",
    [
        "common/install-appliance.sh",
        "scripts/fetch-wheels.sh",
        "scripts/install-deps.sh",
        "scripts/image-test.sh",
        "scripts/build-pi-gen.sh",
        "scripts/release-files.sh",
        "debian/build-image.sh",
        "debian/mkrootfs.sh",
    ],
)
def test_scripts_explain_themselves(script: str):
    result = subprocess.run([str(IMAGE / script), "--help"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: ")

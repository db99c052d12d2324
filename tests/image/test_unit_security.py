"""The appliance's systemd unit: hardened to "OK" by systemd's own measure, and still able to
do its job (GPIO through the gpio group, port 80 without root, its state directory)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

UNIT = Path(__file__).resolve().parents[2] / "image" / "common" / "files" / "appliance.service"
#: systemd-analyze's scale: 0 (locked down) to 10 (unprotected); up to 3.9 is "OK".
MAX_EXPOSURE = 3.0


def settings() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in UNIT.read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def test_systemd_rates_the_unit_ok() -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip(
            "UNIT HARDENING NOT MEASURED: systemd-analyze is missing "
            "(apt-get install systemd); the unit's exposure was not checked"
        )
    result = subprocess.run(
        [analyze, "security", "--offline=true", "--no-pager", str(UNIT)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    match = re.search(r"Overall exposure level for \S+: ([0-9.]+) (\w+)", result.stdout)
    assert match, result.stdout + result.stderr
    exposure = float(match.group(1))
    assert exposure <= MAX_EXPOSURE, f"exposure {exposure} {match.group(2)}:\n{result.stdout}"


def test_the_unit_can_still_do_its_job() -> None:
    unit = settings()
    assert unit["User"] == ["appliance"]
    assert unit["SupplementaryGroups"] == ["gpio"]  # /dev/gpiochip* are group gpio's
    assert "char-gpiochip rw" in unit["DeviceAllow"]
    assert unit["DevicePolicy"] == ["closed"]
    # Port 80 without root: that capability alone.
    assert unit["AmbientCapabilities"] == unit["CapabilityBoundingSet"] == ["CAP_NET_BIND_SERVICE"]
    # Writes go to the state directory (and lgpio's pipes to the runtime one), nowhere else.
    assert unit["ProtectSystem"] == ["strict"]
    assert unit["StateDirectory"] == ["appliance"]
    assert "ReadWritePaths" not in unit
    # The board model is read from /proc/device-tree: the /proc subset must not hide it.
    assert "ProcSubset" not in unit

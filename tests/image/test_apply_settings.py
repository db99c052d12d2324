"""apply-settings: the boot-partition settings file laid over the appliance config.

Runs the image's script on this machine against a scratch root (it reads its paths from the
environment), with a stand-in for `appliance check-config` unless the real one is installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

FILES = Path(__file__).resolve().parents[2] / "image" / "common" / "files"
SCRIPT = FILES / "apply-settings"

# Accepts any config whose [lamp] pin is an integer, like check-config naming the bad key.
FAKE_CHECK = """#!{python}
import sys, tomllib
config = tomllib.load(open(sys.argv[3], "rb"))
if not isinstance(config.get("lamp", {{}}).get("pin", 0), int):
    sys.exit("lamp.pin: expected an integer")
"""


@dataclass
class Result:
    stderr: str
    config: dict[str, Any]
    hostname: str
    hosts: str


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "hostname").write_text("webthing\n")
    (tmp_path / "etc" / "hosts").write_text("127.0.0.1\tlocalhost\n127.0.1.1\twebthing\n")
    shutil.copy(FILES / "appliance.toml", tmp_path / "base.toml")
    check = tmp_path / "check"
    check.write_text(FAKE_CHECK.format(python=sys.executable))
    check.chmod(0o755)
    return tmp_path


def apply(root: Path, settings: str | None, check: str | None = None, *args: str) -> Result:
    env = {
        **os.environ,
        "APPLIANCE_ROOT": str(root),
        "APPLIANCE_SETTINGS": str(root / "settings.toml"),
        "APPLIANCE_BASE_CONFIG": str(root / "base.toml"),
        "APPLIANCE_RUN_CONFIG": str(root / "run" / "appliance.toml"),
        "APPLIANCE_COMMAND": check or str(root / "check"),
    }
    if settings is not None:
        (root / "settings.toml").write_text(settings)
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), *args], env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, "a bad settings file must never fail the boot"
    return Result(
        stderr=proc.stderr,
        config=tomllib.loads((root / "run" / "appliance.toml").read_text()),
        hostname=(root / "etc" / "hostname").read_text().strip(),
        hosts=(root / "etc" / "hosts").read_text(),
    )


def base(root: Path) -> dict[str, Any]:
    return tomllib.loads((root / "base.toml").read_text())


def test_no_file_runs_the_base_config(root: Path):
    result = apply(root, None)
    assert result.config == base(root)
    assert "runs on" in result.stderr


def test_the_shipped_template_changes_nothing(root: Path):
    result = apply(root, (FILES / "appliance-settings.toml").read_text())
    assert result.config == base(root)
    assert result.hostname == "webthing"


def test_hostname_and_tables_are_applied(root: Path):
    result = apply(
        root, 'hostname = "Kitchen-Lamp"\n[discovery]\nname = "Kitchen"\n[lamp]\npin = 12\n'
    )
    assert result.hostname == "kitchen-lamp"
    assert "127.0.1.1\tkitchen-lamp" in result.hosts and "webthing" not in result.hosts
    expected = base(root)
    expected["discovery"] = {**expected["discovery"], "name": "Kitchen"}
    expected["lamp"] = {**expected["lamp"], "pin": 12}
    assert result.config == expected


def test_an_mqtt_table_is_applied(root: Path):
    result = apply(
        root,
        '[mqtt]\nenabled = true\nurl = "mqtt://homeassistant.local:1883"\n'
        'username = "appliance"\npassword = "a \\"quoted\\" secret"\n',
    )
    assert result.config["mqtt"] == {
        "enabled": True,
        "url": "mqtt://homeassistant.local:1883",
        "username": "appliance",
        "password": 'a "quoted" secret',
    }
    assert {k: v for k, v in result.config.items() if k != "mqtt"} == base(root)


def test_malformed_file_changes_nothing_and_says_where(root: Path):
    result = apply(root, 'hostname = "kitchen"\n[lamp\npin = 12\n')
    assert result.config == base(root)
    assert result.hostname == "webthing"
    assert result.stderr.startswith("<3>")  # journal priority: error
    assert "is malformed" in result.stderr and "line 2" in result.stderr


def test_rejected_config_keeps_the_base_but_applies_the_hostname(root: Path):
    result = apply(root, 'hostname = "porch"\n[lamp]\npin = "eighteen"\n')
    assert result.config == base(root)
    assert result.hostname == "porch"
    assert "lamp.pin: expected an integer" in result.stderr


@pytest.mark.parametrize("hostname", ["-bad", "has space", "a" * 64, "dots.not.allowed", "42"])
def test_bad_hostname_is_refused(root: Path, hostname: str):
    result = apply(root, f'hostname = "{hostname}"\n' if hostname != "42" else "hostname = 42\n")
    assert result.hostname == "webthing"
    assert "not a valid host name" in result.stderr


def test_stray_top_level_key_is_refused(root: Path):
    result = apply(root, "port = 8080\n")
    assert result.config == base(root)
    assert "unknown top-level key 'port'" in result.stderr


def test_real_check_config_accepts_the_shipped_config_and_rejects_a_bad_key(root: Path):
    # The command is part of the product (the image's boot service runs it): missing is a failure.
    appliance = Path(sys.executable).with_name("appliance")
    assert appliance.exists(), (
        f"{appliance} is missing: install the project (`make install`, or "
        "`pip install -e '.[dev,uvloop]'` in the virtual environment)"
    )
    probe = subprocess.run(
        [str(appliance), "check-config", "--help"], capture_output=True, text=True
    )
    assert probe.returncode == 0, f"`appliance check-config --help` failed:\n{probe.stderr}"
    accepted = apply(root, '[discovery]\nname = "Porch"\n', check=str(appliance))
    assert accepted.config["discovery"] == {**base(root)["discovery"], "name": "Porch"}
    result = apply(root, "[lamp]\nno_such_key = 1\n", check=str(appliance))
    assert result.config == base(root)
    assert "no_such_key" in result.stderr


def test_config_only_leaves_the_hostname_and_applies_the_tables(root: Path):
    # appliance.service's ExecStartPre: every start of the appliance, never the host name.
    result = apply(root, 'hostname = "porch"\n[discovery]\nname = "Porch"\n', None, "--config-only")
    assert result.hostname == "webthing"
    assert "127.0.1.1\twebthing" in result.hosts
    assert result.config["discovery"] == {**base(root)["discovery"], "name": "Porch"}
    assert "<5>" in result.stderr and "hostname porch applies at the next boot" in result.stderr


def test_config_only_is_quiet_about_the_hostname_it_already_has(root: Path):
    result = apply(root, 'hostname = "WebThing"\n', None, "--config-only")
    assert "hostname" not in result.stderr


def test_an_edit_of_the_base_config_applies_on_the_next_start(root: Path):
    # Edit /etc/appliance/appliance.toml, `systemctl restart appliance`: the ExecStartPre run
    # rebuilds the config from the edited file, the boot partition's settings still on top.
    settings = '[discovery]\nname = "Porch"\n'
    first = apply(root, settings)
    assert first.config["sensor"]["interval"] == 10.0
    edited = (root / "base.toml").read_text()
    edited = edited.replace("interval = 10.0", "interval = 30.0")
    edited = edited.replace("[discovery]\n", '[discovery]\nname = "Kitchen"\n')
    (root / "base.toml").write_text(edited)
    again = apply(root, None, None, "--config-only")
    assert again.config["sensor"]["interval"] == 30.0
    assert again.config["discovery"]["name"] == "Porch"  # the boot partition's key wins
    (root / "settings.toml").unlink()
    alone = apply(root, None, None, "--config-only")
    assert alone.config == base(root)
    assert alone.config["discovery"]["name"] == "Kitchen"


def test_config_only_with_a_malformed_file_runs_the_base_config(root: Path):
    result = apply(root, "[lamp\npin = 12\n", None, "--config-only")
    assert result.config == base(root)
    assert "is malformed" in result.stderr


def test_help_names_the_config_only_mode():
    proc = subprocess.run([sys.executable, str(SCRIPT), "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and "--config-only" in proc.stdout


def test_real_check_config_checks_the_mqtt_table(root: Path):
    appliance = Path(sys.executable).with_name("appliance")
    assert appliance.exists(), f"{appliance} is missing: install the project (`make install`)"
    good = apply(root, '[mqtt]\nenabled = true\nusername = "ha"\npassword = "pw"\n', str(appliance))
    assert good.config["mqtt"]["enabled"] is True
    bad = apply(
        root, '[mqtt]\nenabled = true\nurl = "http://homeassistant.local"\n', str(appliance)
    )
    assert bad.config == base(root)
    assert "mqtt.url" in bad.stderr


def test_security_settings_are_applied_and_the_result_is_not_world_readable(root: Path):
    token = "boot-partition-token-0123456789"
    result = apply(root, f'[security]\ntokens = ["{token}"]\n')
    assert result.config["security"] == {"tokens": [token]}
    mode = (root / "run" / "appliance.toml").stat().st_mode & 0o777
    assert mode == 0o640, oct(mode)

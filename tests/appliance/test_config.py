"""The config file: defaults, every section, and errors that name the key."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from appliance import cli as cli_module
from appliance import config as config_module
from appliance.cli import main
from appliance.config import (
    DEFAULT_PORT,
    Config,
    ConfigError,
    load_config,
    loads_config,
    override,
)
from thingtalk import __version__

from .conftest import appliance_command

FULL = """
[server]
host = "0.0.0.0"
port = 80

[hardware]
backend = "simulated"

[lamp]
pin = 12
frequency = 500
gamma = 2.8

[sensor]
model = "DHT11"
pin = 17
interval = 30

[discovery]
enabled = false
interfaces = ["wlan0", "192.168.1.20"]
name = "Kitchen"

[state]
dir = "/tmp/state"

[mqtt]
enabled = true
url = "mqtts://broker.lan:8884"
username = "appliance"
password_file = "/etc/appliance/mqtt-password"
client_id = "kitchen-1"
base_topic = "home/kitchen"
ca_file = "/etc/ssl/broker-ca.pem"
cert_file = "/etc/appliance/client.pem"
key_file = "/etc/appliance/client.key"
protocol = "5"
keepalive = 30
discovery = false
discovery_prefix = "ha"

[logging]
level = "debug"
"""


def test_defaults() -> None:
    config = Config()
    assert config.server.host == "::"
    assert config.server.port == DEFAULT_PORT == 8888
    assert config.hardware.backend == "auto"
    assert (config.lamp.pin, config.lamp.frequency, config.lamp.gamma) == (18, 200.0, 2.2)
    assert (config.sensor.model, config.sensor.pin, config.sensor.interval) == ("DHT22", 4, 10.0)
    assert config.discovery.enabled and config.discovery.interfaces == []
    assert config.discovery.name == ""
    assert config.state.dir == "/var/lib/appliance"
    assert config.mqtt.enabled is False and config.mqtt.discovery is True
    assert config.mqtt.url == "mqtt://homeassistant.local:1883"
    assert config.mqtt.discovery_prefix == "homeassistant"
    assert config.logging.level == "INFO"
    assert loads_config("") == config


def test_every_key_is_read() -> None:
    config = loads_config(FULL)
    assert (config.server.host, config.server.port) == ("0.0.0.0", 80)
    assert config.hardware.backend == "simulated"
    assert (config.lamp.pin, config.lamp.frequency, config.lamp.gamma) == (12, 500.0, 2.8)
    assert (config.sensor.model, config.sensor.pin, config.sensor.interval) == ("DHT11", 17, 30.0)
    assert config.discovery.enabled is False
    assert config.discovery.interfaces == ["wlan0", "192.168.1.20"]
    assert config.discovery.name == "Kitchen"
    assert config.state.dir == "/tmp/state"
    mqtt = config.mqtt
    assert (mqtt.enabled, mqtt.url, mqtt.username) == (True, "mqtts://broker.lan:8884", "appliance")
    assert (mqtt.password, mqtt.password_file) == ("", "/etc/appliance/mqtt-password")
    assert (mqtt.client_id, mqtt.base_topic, mqtt.protocol, mqtt.keepalive) == (
        "kitchen-1",
        "home/kitchen",
        "5",
        30,
    )
    assert (mqtt.ca_file, mqtt.cert_file, mqtt.key_file) == (
        "/etc/ssl/broker-ca.pem",
        "/etc/appliance/client.pem",
        "/etc/appliance/client.key",
    )
    assert (mqtt.discovery, mqtt.discovery_prefix) == (False, "ha")
    assert config.logging.level_name == "DEBUG"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[sensor]\ninterval = 1", "sensor.interval"),
        ("[sensor]\ninterval = 'often'", "sensor.interval"),
        ("[sensor]\nmodel = 'DHT99'", "sensor.model"),
        ("[sensor]\npin = 40", "sensor.pin"),
        ("[server]\nport = 0", "server.port"),
        ("[server]\nport = 70000", "server.port"),
        ("[server]\nport = '80'", "server.port"),
        ("[lamp]\ngamma = 0", "lamp.gamma"),
        ("[lamp]\nfrequency = -5", "lamp.frequency"),
        ("[lamp]\ncolour = 'red'", "lamp.colour"),
        ("[hardware]\nbackend = 'gpio'", "hardware.backend"),
        ("[discovery]\nenabled = 'yes'", "discovery.enabled"),
        ("[discovery]\ninterfaces = 'eth0'", "discovery.interfaces"),
        ("[discovery]\ninterfaces = [1]", "discovery.interfaces[0]"),
        ("[state]\ndir = ''", "state.dir"),
        ("[logging]\nlevel = 'loud'", "logging.level"),
        ("[mqtt]\nurl = 'http://broker'", "mqtt.url"),
        ("[mqtt]\nurl = 'mqtt://broker:0'", "mqtt.url"),
        ("[mqtt]\nbase_topic = 'home/#'", "mqtt.base_topic"),
        ("[mqtt]\ndiscovery_prefix = ''", "mqtt.discovery_prefix"),
        ("[mqtt]\nusername = 'u'\npassword = 'p'\npassword_file = 'f'", "mqtt.password_file"),
        ("[mqtt]\npassword = 'p'", "mqtt.username"),
        ("[mqtt]\ncert_file = 'c.pem'", "mqtt.key_file"),
        ("[mqtt]\nprotocol = 4", "mqtt.protocol"),
        ("[mqtt]\nkeepalive = 1", "mqtt.keepalive"),
        ("[mqtt]\nqos = 2", "mqtt.qos"),
        ("[frobnicate]\nx = 1", "frobnicate"),
        ("server = 3", "server"),
    ],
)
def test_invalid_values_name_the_key(text: str, key: str) -> None:
    with pytest.raises(ConfigError) as info:
        loads_config(text, "my.toml")
    message = str(info.value)
    assert message.startswith("my.toml: ")
    assert f"`{key}`" in message, message


def test_unknown_key_message() -> None:
    with pytest.raises(ConfigError, match=r"unknown key `sensor\.intervall`"):
        loads_config("[sensor]\nintervall = 5")


def test_bad_toml_says_where() -> None:
    with pytest.raises(ConfigError, match=r"not valid TOML.*line 2"):
        loads_config("[server]\nport = = 80")


def test_missing_default_file_means_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(config_module, "DEFAULT_CONFIG_PATH", tmp_path / "nope.toml")
    assert load_config() == Config()


def test_missing_explicit_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "nope.toml")


def test_load_from_file(tmp_path: Path) -> None:
    path = tmp_path / "appliance.toml"
    path.write_text("[server]\nport = 80\n")
    assert load_config(path).server.port == 80


def test_command_line_overrides_the_file() -> None:
    config = loads_config(FULL)
    changed = override(
        config,
        server_port=9000,
        server_host=None,
        state_dir="/srv/state",
        discovery_enabled=False,
        hardware_backend="pi",
    )
    assert changed.server.port == 9000
    assert changed.server.host == "0.0.0.0"  # None keeps the file's value
    assert changed.state.dir == "/srv/state"
    assert changed.hardware.backend == "pi"
    assert changed.lamp == config.lamp
    with pytest.raises(ConfigError, match=r"command line: invalid `hardware.backend`"):
        override(config, hardware_backend="gpio")


def test_check_config_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.toml"
    good.write_text(FULL)
    assert main(["check-config", "--config", str(good)]) == 0
    assert "ok" in capsys.readouterr().err

    bad = tmp_path / "bad.toml"
    bad.write_text("[sensor]\ninterval = 0.5\n")
    assert main(["check-config", "--config", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "sensor.interval" in err and str(bad) in err


def test_check_config_console_script(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[lamp]\npin = 99\n")
    result = subprocess.run(
        [*appliance_command(), "check-config", "--config", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "lamp.pin" in result.stderr

    good = tmp_path / "good.toml"
    good.write_text("[server]\nport = 80\n")
    result = subprocess.run(
        [*appliance_command(), "check-config", "--config", str(good)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_help_has_examples(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["serve", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for option in ("--config", "--host", "--port", "--hardware", "--state-dir", "--no-discovery"):
        assert option in out
    assert "appliance serve --hardware simulated --port 8888" in out


def test_check_config_without_a_file_says_the_defaults_apply(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli_module, "DEFAULT_CONFIG_PATH", tmp_path / "absent.toml")
    assert main(["check-config"]) == 0
    err = capsys.readouterr().err
    assert f"no config file at {tmp_path / 'absent.toml'}: the defaults apply" in err


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        (
            '[sensor]\nmodel = "DHT23"\n',
            "`sensor.model`: Invalid enum value 'DHT23'; expected one of DHT11, DHT22",
        ),
        ('[hardware]\nbackend = "gpio"\n', "expected one of auto, pi, simulated"),
        ('[logging]\nlevel = "loud"\n', "expected one of CRITICAL, DEBUG, ERROR, INFO, WARNING"),
    ],
)
def test_an_invalid_choice_lists_the_allowed_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], toml: str, expected: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(toml)
    assert main(["check-config", "--config", str(path)]) == 1
    assert expected in capsys.readouterr().err


def test_check_config_refuses_a_host_that_does_not_resolve(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "host.toml"
    path.write_text('[server]\nhost = "no-such-host.invalid"\n')
    assert main(["check-config", "--config", str(path)]) == 1
    assert "invalid `server.host`: 'no-such-host.invalid'" in capsys.readouterr().err
    path.write_text('[server]\nhost = "127.0.0.1"\n')
    assert main(["check-config", "--config", str(path)]) == 0


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"appliance {__version__} (thingtalk {__version__})"

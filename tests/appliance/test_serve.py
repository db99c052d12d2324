"""A real `appliance serve` process: serves both things, survives restarts, stops on SIGTERM."""

from __future__ import annotations

import json
import signal
from collections.abc import Callable
from pathlib import Path

import httpx

from appliance.state import STATE_FILE

from .conftest import ApplianceProcess, wait_sync

Start = Callable[..., ApplianceProcess]


def test_serves_lamp_and_sensor_and_saves_state_on_sigterm(
    start_appliance: Start, tmp_path: Path
) -> None:
    state_dir = tmp_path / "state"
    app = start_appliance("--state-dir", str(state_dir), "--no-discovery")
    app.wait_ready()
    things = httpx.get(f"{app.url}/").json()
    assert [t["href"] for t in things] == ["/0", "/1"]
    assert things[0]["@type"] == ["OnOffSwitch", "Light"]
    assert {"humidity", "temperature"} <= set(things[1]["properties"])
    wait_sync(
        lambda: httpx.get(f"{app.url}/1/properties/temperature").json()["temperature"] is not None,
        what="a first sensor reading",
    )

    assert httpx.put(f"{app.url}/0/properties/on", json={"on": True}).status_code == 200
    response = httpx.put(f"{app.url}/0/properties/brightness", json={"brightness": 73})
    assert response.json() == {"brightness": 73}
    # Acknowledged means on disk already, before any shutdown.
    assert json.loads((state_dir / STATE_FILE).read_text()) == {"on": True, "brightness": 73}

    # A fade still running at SIGTERM is cancelled; where it stopped is saved.
    fade = {"fade": {"input": {"brightness": 0, "duration": 60_000}}}
    assert httpx.post(f"{app.url}/0/actions", json=fade).status_code == 201
    wait_sync(
        lambda: httpx.get(f"{app.url}/0/properties/brightness").json()["brightness"] < 73,
        what="the fade to move",
    )
    assert app.terminate() == 0, app.output()
    log = app.output()
    assert "SIGTERM" in log and "saved the lamp state" in log
    saved = json.loads((state_dir / STATE_FILE).read_text())
    assert saved["on"] is True and 0 < saved["brightness"] < 73

    again = start_appliance("--state-dir", str(state_dir), "--no-discovery")
    again.wait_ready()
    assert httpx.get(f"{again.url}/0/properties").json() == saved
    assert again.terminate() == 0


def test_logs_the_url(start_appliance: Start, tmp_path: Path) -> None:
    app = start_appliance("--state-dir", str(tmp_path), "--no-discovery")
    app.wait_ready()
    assert f"lamp at http://127.0.0.1:{app.port}/0" in app.output()
    assert app.terminate() == 0


def test_sigint_also_stops_cleanly(start_appliance: Start, tmp_path: Path) -> None:
    app = start_appliance("--state-dir", str(tmp_path), "--no-discovery")
    app.wait_ready()
    app.proc.send_signal(signal.SIGINT)
    assert app.proc.wait(10) == 0, app.output()


def test_config_file_and_flags(start_appliance: Start, tmp_path: Path) -> None:
    config = tmp_path / "appliance.toml"
    config.write_text(
        f'[state]\ndir = "{tmp_path / "from-file"}"\n[discovery]\nenabled = false\n'
        '[logging]\nlevel = "debug"\n'
    )
    app = start_appliance("--config", str(config), "--log-level", "warning")
    app.wait_ready()
    httpx.put(f"{app.url}/0/properties/brightness", json={"brightness": 12})
    assert (tmp_path / "from-file" / STATE_FILE).exists()
    assert app.terminate() == 0
    assert "INFO" not in app.output()  # --log-level beats the file's debug


def test_invalid_config_exits_1_naming_the_key(start_appliance: Start, tmp_path: Path) -> None:
    config = tmp_path / "appliance.toml"
    config.write_text("[sensor]\ninterval = 0\n")
    app = start_appliance("--config", str(config))
    assert app.proc.wait(30) == 1
    assert "sensor.interval" in app.output()


def test_pi_hardware_off_a_pi_is_a_clear_error(start_appliance: Start, tmp_path: Path) -> None:
    app = start_appliance("--state-dir", str(tmp_path), "--hardware", "pi", "--no-discovery")
    assert app.proc.wait(30) == 1
    assert "needs a Raspberry Pi" in app.output()


def test_port_in_use_is_one_clear_line_and_exit_2(start_appliance: Start, tmp_path: Path) -> None:
    first = start_appliance("--state-dir", str(tmp_path / "a"), "--no-discovery")
    first.wait_ready()
    second = start_appliance("--state-dir", str(tmp_path / "b"), "--no-discovery", port=first.port)
    assert second.proc.wait(30) == 2, second.output()
    output = second.output()
    assert f"port {first.port} is in use; choose another with --port" in output
    # Nothing claimed to serve, and no traceback, before the refusal.
    assert "serving" not in output and "Traceback" not in output
    assert first.terminate() == 0


def test_a_state_dir_that_cannot_be_written_stops_the_start_at_once(
    start_appliance: Start, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    app = start_appliance("--state-dir", str(blocker / "state"), "--no-discovery")
    assert app.proc.wait(30) == 1, app.output()
    output = app.output()
    assert f"cannot write the state directory {blocker / 'state'}" in output
    assert "choose another with --state-dir" in output
    assert "Traceback" not in output and "serving" not in output

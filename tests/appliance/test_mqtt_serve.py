"""`appliance serve` with [mqtt]: the broker's last will when the process dies, and HTTP served
whatever the broker does."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.broker import Mosquitto, recording
from tests.support import eventually, free_port

from .conftest import ApplianceProcess

Start = Callable[..., ApplianceProcess]


def write_config(tmp_path: Path, mqtt: str) -> Path:
    config = tmp_path / "appliance.toml"
    config.write_text(
        f'[state]\ndir = "{tmp_path / "state"}"\n[discovery]\nenabled = false\n'
        f'[mqtt]\nenabled = true\nbase_topic = "fleet/one"\nclient_id = "appliance-one"\n{mqtt}'
    )
    return config


async def test_kill_9_leaves_offline_by_the_last_will(
    start_appliance: Start, tmp_path: Path
) -> None:
    broker = Mosquitto(tmp_path / "broker", users={"appliance": "pa ss", "ha": "ha"})
    broker.start()
    try:
        password = tmp_path / "mqtt-password"
        password.write_text("pa ss\n")
        config = write_config(
            tmp_path,
            f'url = "{broker.url}"\nusername = "appliance"\npassword_file = "{password}"\n',
        )
        app = start_appliance("--config", str(config))
        app.wait_ready()
        async with recording(broker, "fleet/one/#", username="ha", password="ha") as mqtt:
            await eventually(lambda: mqtt.latest.get("fleet/one/availability") == b"online", 20)
            assert mqtt.json("fleet/one/lamp/properties/brightness") == 50
            async with httpx.AsyncClient() as http:
                await http.put(f"{app.url}/0/properties/brightness", json={"brightness": 61})
            await mqtt.wait_for("fleet/one/lamp/properties/brightness", 61)

            os.kill(app.proc.pid, signal.SIGKILL)  # no goodbye: the broker speaks for it
            app.proc.wait(10)
            await eventually(lambda: mqtt.latest.get("fleet/one/availability") == b"offline")
            offline = [m for m in mqtt.messages if m.topic.value == "fleet/one/availability"][-1]
            assert offline.payload == b"offline"
        # Retained: whoever looks later sees it offline, with its last values.
        async with recording(broker, "fleet/one/#", username="ha", password="ha") as later:
            await eventually(lambda: "fleet/one/availability" in later.latest)
            assert later.latest["fleet/one/availability"] == b"offline"
            assert later.json("fleet/one/lamp/properties/brightness") == 61
    finally:
        broker.stop()


def test_an_unreachable_broker_at_start_does_not_stop_the_appliance(
    start_appliance: Start, tmp_path: Path
) -> None:
    config = write_config(tmp_path, f'url = "mqtt://127.0.0.1:{free_port()}"\n')
    app = start_appliance("--config", str(config))
    app.wait_ready()
    response = httpx.put(f"{app.url}/0/properties/on", json={"on": True})
    assert response.json() == {"on": True}
    assert "retrying with backoff" in app.output()
    assert app.terminate() == 0, app.output()


def test_an_unreadable_password_file_is_a_config_error(
    start_appliance: Start, tmp_path: Path
) -> None:
    config = write_config(tmp_path, f'username = "u"\npassword_file = "{tmp_path / "missing"}"\n')
    app = start_appliance("--config", str(config))
    assert app.proc.wait(30) == 1
    assert "mqtt.password_file" in app.output()

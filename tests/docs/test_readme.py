"""The README's tour runs as written: its Python blocks are executed and their things served."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from thingtalk import MultipleThings, WebThingServer

README = Path(__file__).resolve().parents[2] / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


@pytest.fixture
def tour() -> dict[str, Any]:
    """The namespace left by running every Python block of the README in order."""
    namespace: dict[str, Any] = {"__name__": "readme_tour"}
    for block in python_blocks():
        exec(compile(block, str(README), "exec"), namespace)
    return namespace


def test_the_readme_has_the_tour() -> None:
    blocks = python_blocks()
    assert len(blocks) >= 3
    assert "class Lamp(Thing)" in blocks[0]


async def test_the_lamp_of_the_tour_serves_and_validates(tour: dict[str, Any]) -> None:
    app = tour["app"]
    async with app.test_app() as test_app:
        client = test_app.test_client()
        response = await client.get("/properties/brightness")
        assert await response.get_json() == {"brightness": 50}
        response = await client.put("/properties/brightness", json={"brightness": 300})
        assert response.status_code == 400
        assert "maximum" in (await response.get_json())["message"]
        response = await client.put("/properties/brightness", json={"brightness": 30})
        assert await response.get_json() == {"brightness": 30}
        response = await client.post(
            "/actions", json={"fade": {"input": {"brightness": 80, "duration": 1}}}
        )
        assert response.status_code == 201


async def test_the_sensor_and_the_extension_points_of_the_tour(
    tour: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    sensor = tour["HumiditySensor"]()
    server: WebThingServer = tour["server"]
    assert [r.rule for r in server.additional_routes if hasattr(r, "rule")] == ["/health"]
    served = WebThingServer(
        MultipleThings([tour["Lamp"](), sensor], "My Devices"),
        discovery=False,
        additional_routes=server.additional_routes,
        additional_middlewares=server.additional_middlewares,
        additional_on_startup=server.additional_on_startup,
        additional_on_shutdown=server.additional_on_shutdown,
    ).create()
    async with served.test_app() as test_app:
        client = test_app.test_client()
        response = await client.get("/1/properties/level")
        assert await response.get_json() == {"level": 0.0}
        response = await client.get("/health")
        assert await response.get_json() == {"ok": True}
        assert response.headers["x-served-by"] == "appliance"
        assert "up" in capsys.readouterr().out
    assert "down" in capsys.readouterr().out
    assert not sensor.tasks  # the poller was cancelled with the server


def test_the_config_file_shown_in_the_readme_is_valid_and_matches_the_defaults() -> None:
    from appliance.config import Config, loads_config

    blocks = re.findall(r"```toml\n(.*?)```", README.read_text(), flags=re.S)
    assert len(blocks) == 1
    shown = loads_config(blocks[0], "README.md")
    assert shown == Config()  # the README documents the real defaults

"""Which port mDNS advertises: the one served, whoever serves the app."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tests.support import lamp_server
from thingtalk import discovery
from thingtalk.server import PortProbe


class Recording:
    """An Advertiser that records what it was asked to advertise."""

    made: list[Recording] = []

    def __init__(self, name: str, port: int, **kwargs: Any) -> None:
        self.port = port
        self.started = self.stopped = False
        self.made.append(self)

    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.stopped = True


@pytest.fixture(autouse=True)
def recording(monkeypatch: pytest.MonkeyPatch) -> None:
    Recording.made.clear()
    monkeypatch.setattr(discovery, "Advertiser", Recording)


async def test_the_first_request_shows_the_port_once() -> None:
    seen: list[int | None] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        pass

    async def receive() -> Any:
        return {}

    async def send(message: Any) -> None:
        pass

    probe = PortProbe(app, seen.append)
    await probe({"type": "lifespan"}, receive, send)
    await probe({"type": "http", "server": ("127.0.0.1", 8123)}, receive, send)
    await probe({"type": "http", "server": ("127.0.0.1", 9)}, receive, send)
    assert seen == [8123]


async def test_an_unknown_port_is_learned_from_the_first_request(
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = lamp_server(discovery=True)
    assert not server.port_known
    with caplog.at_level(logging.INFO, "thingtalk.server"):
        server._port_seen(8123)
        assert server._discovery_task is not None
        await server._discovery_task
    [advertiser] = Recording.made
    assert (advertiser.port, advertiser.started) == (8123, True)
    assert "served on port 8123" in caplog.text
    await server._stop_discovery()


async def test_a_configured_port_that_is_not_served_is_corrected(
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = lamp_server(discovery=True, port=8888)
    server._discovery_task = None
    await server._start_discovery()
    with caplog.at_level(logging.WARNING, "thingtalk.server"):
        server._port_seen(8123)
        assert server._discovery_task is not None
        await server._discovery_task
    first, second = Recording.made
    assert (first.port, first.stopped) == (8888, True)
    assert (second.port, second.started) == (8123, True)
    assert "not the configured 8888" in caplog.text
    await server._stop_discovery()


async def test_no_port_at_all_advertises_nothing_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = lamp_server(discovery=True)
    with caplog.at_level(logging.WARNING, "thingtalk.server"):
        server._port_seen(None)
    assert Recording.made == [] and server._discovery_task is None
    assert "not advertising" in caplog.text

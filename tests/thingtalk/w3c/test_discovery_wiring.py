"""WoT Discovery over DNS-SD: the server advertises `_wot._tcp` with the right TXT record."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import lamp_server
from thingtalk import WebThingServer, discovery
from thingtalk.discovery import WOT_SERVICE, Advertiser

from .conftest import pair_server


class FakeAdvertiser:
    """Records what the server asks for instead of opening sockets."""

    made: list[FakeAdvertiser] = []

    def __init__(self, name: str, port: int, **kwargs: Any) -> None:
        self.real = Advertiser(name, port, **kwargs)
        self.made.append(self)

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass


@pytest.mark.parametrize(("make", "wot_type"), [(lamp_server, "Thing"), (pair_server, "Directory")])
async def test_wot_record_points_at_the_well_known_td(
    monkeypatch: pytest.MonkeyPatch, make: Any, wot_type: str
) -> None:
    monkeypatch.setattr(discovery, "Advertiser", FakeAdvertiser)
    server: WebThingServer = make(port=8888)
    await server._start_discovery()
    advertiser = FakeAdvertiser.made[-1].real
    assert advertiser._txt(WOT_SERVICE) == {
        "td": "/.well-known/wot",
        "type": wot_type,
        "scheme": "http",
    }

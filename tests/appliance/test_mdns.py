"""mDNS of a running appliance on loopback, as a gateway's python-zeroconf browser sees it."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

# The loopback multicast set-up and the browser are the discovery tests' own fixtures.
from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

from tests.thingtalk.discovery.conftest import (
    LOOPBACK,
    Browser,
    browser,
    client,
    loopback_multicast,
    unique_name,
)
from thingtalk.discovery import WEBTHING_SERVICE, WOT_SERVICE

from .conftest import ApplianceProcess

__all__ = ["browser", "client", "loopback_multicast", "unique_name"]

pytestmark = pytest.mark.usefixtures("loopback_multicast")


async def resolve(zc: AsyncZeroconf, type_: str, name: str) -> AsyncServiceInfo:
    info = AsyncServiceInfo(type_, name)
    assert await info.async_request(zc.zeroconf, 3000), f"{name} did not resolve"
    return info


def txt(info: AsyncServiceInfo) -> dict[str, str]:
    return {k.decode(): (v or b"").decode() for k, v in info.properties.items()}


async def test_running_appliance_is_found_and_its_adverts_answer(
    start_appliance: Callable[..., ApplianceProcess],
    client: AsyncZeroconf,
    browser: Browser,
    unique_name: str,
    tmp_path: Path,
) -> None:
    config = tmp_path / "appliance.toml"
    config.write_text(
        f'[discovery]\nenabled = true\ninterfaces = ["{LOOPBACK}"]\nname = "{unique_name}"\n'
    )
    app = start_appliance("--config", str(config), "--state-dir", str(tmp_path / "state"))
    names = {
        WEBTHING_SERVICE: f"{unique_name}.{WEBTHING_SERVICE}",
        WOT_SERVICE: f"{unique_name}.{WOT_SERVICE}",
    }
    await browser.wait(lambda: set(names.values()) <= browser.present, within=30)

    webthing = await resolve(client, WEBTHING_SERVICE, names[WEBTHING_SERVICE])
    wot = await resolve(client, WOT_SERVICE, names[WOT_SERVICE])
    assert webthing.port == wot.port == app.port
    assert LOOPBACK in webthing.parsed_addresses()
    path = txt(webthing)["path"]
    td = txt(wot)["td"]
    assert txt(wot)["scheme"] == "http"

    async with httpx.AsyncClient(timeout=5) as http:
        base = f"http://{LOOPBACK}:{webthing.port}"
        things = (await http.get(f"{base}{path}")).json()
        assert [t["title"] for t in things] == ["Lamp", "Sensor"]
        response = await http.get(f"{base}{td}")
        assert response.status_code == 200, response.text
        assert response.json()  # a TD (the directory's, for two things)

        # The host's .local name and its own address pass the Host check; others do not.
        short = socket.gethostname().split(".", 1)[0]
        local = await http.get(f"{base}/0", headers={"Host": f"{short}.local:{app.port}"})
        assert local.status_code == 200
        evil = await http.get(f"{base}/0", headers={"Host": "attacker.example"})
        assert evil.status_code == 403

    # SIGTERM withdraws both adverts before the process exits.
    exit_code = await asyncio.to_thread(app.terminate)
    assert exit_code == 0, app.output()
    await browser.wait(lambda: not (set(names.values()) & browser.present), within=10)
    assert "mDNS: withdrew" in app.output()

"""Served by another ASGI server: mDNS carries the port actually served, and the library's
log lines show.

uvicorn and the hypercorn command line tell the app its port only with each request (the
ASGI scope's ``server``), never at start-up: the records appear once the first request shows
it, and until then the log says why there are none.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

from tests.support import free_port
from tests.thingtalk.discovery.conftest import Browser, browser, client, loopback_multicast
from tests.thingtalk.discovery.conftest import unique_name as unique_name
from thingtalk.discovery import WEBTHING_SERVICE, WOT_SERVICE

from .conftest import hypercorn, running, uvicorn

__all__ = ["browser", "client", "loopback_multicast"]

pytestmark = pytest.mark.usefixtures("loopback_multicast")

SERVERS = {
    "uvicorn": uvicorn("served_elsewhere:app"),
    "hypercorn": hypercorn("served_elsewhere:app"),
}


async def resolve(zc: AsyncZeroconf, type_: str, name: str) -> AsyncServiceInfo:
    info = AsyncServiceInfo(type_, name)
    assert await info.async_request(zc.zeroconf, 3000), f"{name} did not resolve"
    return info


@pytest.mark.parametrize("server", sorted(SERVERS))
async def test_mdns_advertises_the_port_the_server_serves(
    server: str,
    client: AsyncZeroconf,
    browser: Browser,
    unique_name: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("THING_TITLE", unique_name)
    monkeypatch.delenv("THING_PORT", raising=False)
    names = {t: f"{unique_name}.{t}" for t in (WEBTHING_SERVICE, WOT_SERVICE)}
    async with running(SERVERS[server], tmp_path) as program:
        await program.wait_answering()  # the first request: now the port is known
        await browser.wait(lambda: set(names.values()) <= browser.present, within=30)
        for type_, name in names.items():
            info = await resolve(client, type_, name)
            assert info.port == program.port, (server, type_, info.port)
        assert await program.interrupt() == 0
    # The library's own lines, under the other server's logging.
    output = program.output()
    assert "port not known yet" in output
    assert f"served on port {program.port}" in output
    assert "thingtalk.discovery: mDNS: withdrew" in output


async def test_a_port_given_as_a_setting_is_advertised_at_once(
    client: AsyncZeroconf,
    browser: Browser,
    unique_name: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = free_port()
    monkeypatch.setenv("THING_TITLE", unique_name)
    monkeypatch.setenv("THING_PORT", str(port))
    name = f"{unique_name}.{WEBTHING_SERVICE}"
    async with running(uvicorn("served_elsewhere:app"), tmp_path, port=port) as program:
        # No request made: the setting is enough.
        await browser.wait(lambda: name in browser.present, within=30)
        info = await resolve(client, WEBTHING_SERVICE, name)
        assert info.port == port
        async with httpx.AsyncClient(timeout=5) as http:
            assert (await http.get(f"{program.url}/")).status_code == 200
        assert await program.interrupt() == 0
    assert "port not known yet" not in program.output()

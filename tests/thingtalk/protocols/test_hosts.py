"""The Host-header check against DNS rebinding: who is let in, who gets 403."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator

import httpx
import pytest
import websockets
from quart.testing import QuartClient
from quart.testing.connections import WebsocketDisconnectError, WebsocketResponseError

from tests.support import lamp_server, serving, started
from thingtalk.protocols.hosts import Authority, HostCheck, MalformedHost, parse_authority

from .conftest import real_socket

HOSTNAME = socket.gethostname()


def allowed_hosts() -> list[str]:
    hostname = HOSTNAME.split(".")[0]
    names = [
        "localhost",
        "127.0.0.1",
        "127.1.2.3",
        "[::1]",
        hostname,
        f"{hostname}.local",
        HOSTNAME,
    ]
    variants = []
    for name in names:
        variants += [name, f"{name}:8888", f"{name}:80", name.upper(), f"{name.upper()}:8888"]
    return [*variants, "LocalHost", "localhost.", f"{hostname}.local.:8888"]


FORBIDDEN = [
    "evil.com",
    "evil.com:8888",
    "localhost.evil.com",
    "127.evil.com",
    "127.0.0.1.evil.com",
    f"{HOSTNAME.split('.')[0]}.evil.com",
    "evil.local",
    "[::2]",
]


@pytest.fixture
async def client() -> AsyncIterator[QuartClient]:
    async with started(lamp_server().create()) as client:
        yield client


@pytest.mark.parametrize("host", allowed_hosts())
async def test_own_names_are_allowed(client: QuartClient, host: str) -> None:
    response = await client.get("/properties", headers={"Host": host})
    assert response.status_code == 200, host


@pytest.mark.parametrize("host", FORBIDDEN)
async def test_other_names_are_403(client: QuartClient, host: str) -> None:
    for method, path in [("GET", "/"), ("PUT", "/properties/on"), ("OPTIONS", "/")]:
        response = await client.open(path, method=method, headers={"Host": host}, json={"on": 0})
        assert response.status_code == 403, (host, method)
        assert "access-control-allow-origin" not in response.headers
        body = json.loads(await response.get_data())
        assert body["error"] == "forbidden"
        assert body["message"]
    assert (await client.get("/properties/on")).status_code == 200
    assert await (await client.get("/properties/on")).get_json() == {"on": True}


async def test_websocket_with_a_foreign_host_is_refused(client: QuartClient) -> None:
    with pytest.raises((WebsocketDisconnectError, WebsocketResponseError)):
        async with client.websocket("/", headers={"Host": "evil.com"}) as ws:
            await ws.send(json.dumps({"messageType": "setProperty", "data": {"on": False}}))
            await ws.receive()
    assert await (await client.get("/properties/on")).get_json() == {"on": True}


async def test_extra_names() -> None:
    server = lamp_server(allowed_hosts=["lamp.example.org", "Gateway.Home"])
    async with started(server.create()) as client:
        for host in ("lamp.example.org", "LAMP.example.org:8888", "gateway.home", "localhost"):
            assert (await client.get("/", headers={"Host": host})).status_code == 200, host
        assert (await client.get("/", headers={"Host": "evil.com"})).status_code == 403


async def test_configured_hostname() -> None:
    async with started(lamp_server(hostname="porch-lamp").create()) as client:
        for host in ("porch-lamp", "porch-lamp.local:8888", "Porch-Lamp.LOCAL"):
            assert (await client.get("/", headers={"Host": host})).status_code == 200, host
        assert (await client.get("/", headers={"Host": "porch-lamp.evil"})).status_code == 403


async def test_check_can_be_disabled() -> None:
    async with started(lamp_server(disable_host_validation=True).create()) as client:
        response = await client.get("/properties", headers={"Host": "evil.com"})
        assert response.status_code == 200
        async with client.websocket("/", headers={"Host": "evil.com"}) as ws:
            await ws.send(json.dumps({"messageType": "setProperty", "data": {"on": False}}))
            assert json.loads(await ws.receive())["messageType"] == "propertyStatus"


@pytest.mark.parametrize(
    ("header", "authority"),
    [
        ("Pi.local:8888", Authority("pi.local", 8888)),
        ("[::1]:80", Authority("::1", 80)),
        ("[::1]", Authority("::1")),
        ("[0:0:0:0:0:0:0:1]", Authority("::1")),
        ("LOCALHOST", Authority("localhost")),
        ("pi.local.", Authority("pi.local")),
        (" pi ", Authority("pi")),
        ("127.0.0.1:08888", Authority("127.0.0.1", 8888)),
    ],
)
def test_parse_authority(header: str, authority: Authority) -> None:
    assert parse_authority(header) == authority


@pytest.mark.parametrize(
    "header",
    ["::1", "localhost:", "localhost:0", "localhost:65536", "localhost..", ".", "a..b", "1.2.3"],
)
def test_parse_authority_refuses(header: str) -> None:
    with pytest.raises(MalformedHost):
        parse_authority(header)


def test_host_check_unit() -> None:
    check = HostCheck(["Lamp.Example"])
    assert check.allows(parse_authority("lamp.example:443"))
    assert check.allows(parse_authority("127.0.0.1:8080"))
    assert not check.allows(parse_authority("127.lamp.example"))
    assert not check.allows(parse_authority("evil.com"))
    assert not check.allows(parse_authority("evil.com"))


# -- the same through Hypercorn --


async def test_host_check_through_hypercorn(port: int) -> None:
    async with serving(lamp_server(host="127.0.0.1", port=port)) as url:
        async with httpx.AsyncClient(base_url=url) as http:
            assert (await http.get("/properties")).status_code == 200
            ok = await http.get("/properties", headers={"Host": f"localhost:{port}"})
            assert ok.status_code == 200
            response = await http.get("/properties", headers={"Host": "evil.com"})
            assert response.status_code == 403
            assert response.json()["error"] == "forbidden"
            assert "access-control-allow-origin" not in response.headers
        with pytest.raises(websockets.InvalidStatus) as refused:
            async with real_socket(f"ws://evil.com:{port}/", host="127.0.0.1", port=port):
                pass
        assert refused.value.response.status_code == 403
        async with real_socket(f"ws://localhost:{port}/", host="127.0.0.1", port=port) as ws:
            await ws.send({"messageType": "setProperty", "data": {"on": False}})
            assert await ws.receive() == {"messageType": "propertyStatus", "data": {"on": False}}

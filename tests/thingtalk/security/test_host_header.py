"""The Host header, fuzzed: never a 5xx, never a foreign or malformed host in a TD; the
absolute-form target's authority wins; forwarded headers count only from trusted proxies."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from quart import Quart

from tests.support import lamp_server, serving, started
from thingtalk.protocols.hosts import HostCheck, MalformedHost, parse_authority

HOSTNAME = socket.gethostname().lower()
NAMES = ["localhost", "127.0.0.1", "[::1]", HOSTNAME, f"{HOSTNAME}.local", "evil.com", "127.0.0.2"]
TRICKS = [
    "",
    ":8888",
    ":",
    ":0",
    ":65536",
    ":8888.evil.com",
    ".evil.com",
    "..",
    "..:8888",
    ".",
    "@evil.example",
    ":@evil.example",
    ":8888@evil.example",
    "].evil.com",
    ".evil.com:8888",
    "%2e",
    " ",
    "\t",
    ":8888:80",
    ":+80",
    ":-1",
    ":8_888",
    "/x",
    "?",
    "#",
    "\\@evil.com",
]
HEADER_CHARS = st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f")
HOSTS = st.one_of(
    st.builds(
        lambda a, b, c: a + b + c,
        st.sampled_from(NAMES),
        st.sampled_from(TRICKS),
        st.text(HEADER_CHARS, max_size=6),
    ),
    st.text(HEADER_CHARS, max_size=40),
    st.builds(lambda a: f"[{a}]", st.text("0123456789abcdef:.%", max_size=45)),
)


@pytest.fixture(scope="module")
def running() -> Iterator[tuple[Quart, asyncio.AbstractEventLoop]]:
    """The lamp's app, started on a loop of the module's own (Hypothesis calls the test
    many times within one pytest test)."""
    loop = asyncio.new_event_loop()
    app = lamp_server().create()
    loop.run_until_complete(app.startup())
    try:
        yield app, loop
    finally:
        loop.run_until_complete(app.shutdown())
        loop.close()


async def call(app: Quart, host: bytes, path: str = "/", target: str | None = None) -> Any:
    """One GET straight into the ASGI app, with raw header bytes: no client in the way."""
    sent: list[dict[str, Any]] = []
    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": target or path,
        "raw_path": (target or path).encode("latin-1"),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", host), (b"accept", b"application/json")],
        "client": ("192.0.2.1", 5000),
        "server": ("127.0.0.1", 8888),
        "extensions": {},
    }

    requested = False
    answered = asyncio.Event()

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await answered.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body"):
            answered.set()

    await app(scope, receive, send)  # type: ignore[arg-type]
    status = sent[0]["status"]
    body = b"".join(m.get("body", b"") for m in sent[1:])
    return status, json.loads(body) if body else None


def allowed(host: str) -> bool:
    try:
        return HostCheck().allows(parse_authority(host))
    except MalformedHost:
        return False


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(host=HOSTS)
def test_fuzzed_hosts_never_fail_and_never_reflect(
    running: tuple[Quart, asyncio.AbstractEventLoop], host: str
) -> None:
    app, loop = running
    status, body = loop.run_until_complete(call(app, host.encode("latin-1")))
    assert status < 500, (host, body)
    if status == 200:
        assert allowed(host), host
        base = urlsplit(body["base"])
        assert base.netloc == parse_authority(host).netloc(), (host, body["base"])
        assert allowed(base.netloc)
        assert body["links"][3]["href"] == f"ws://{base.netloc}/"
    else:
        assert status in (400, 403), host
        assert body["error"] in ("bad-request", "forbidden")
        assert status == (403 if _parses(host) else 400), host


def _parses(host: str) -> bool:
    try:
        parse_authority(host)
    except MalformedHost:
        return False
    return True


@pytest.mark.parametrize(
    "host",
    [
        "localhost:8888.evil.com",
        "[::1].evil.com",
        "localhost:@evil.example",
        "127.0.0.1:8888@evil.example",
        "localhost..:8888",
        "localhost:",
        "::1",
        "[::1",
        "localhost:8888:8888",
        "evil.com@localhost",
        "local host",
        "localhost\x00",
    ],
)
def test_malformed_hosts_are_400(
    running: tuple[Quart, asyncio.AbstractEventLoop], host: str
) -> None:
    app, loop = running
    status, body = loop.run_until_complete(call(app, host.encode("latin-1")))
    assert status == 400, host
    assert body["error"] == "bad-request"
    assert body["message"].startswith("malformed Host")


async def raw_request(port: int, request: str) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request.encode("latin-1"))
    await writer.drain()
    data = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


async def test_the_absolute_form_target_wins(port: int) -> None:
    """RFC 9112 3.2.2: with ``GET http://authority/path`` the Host header is ignored."""
    async with serving(lamp_server(host="127.0.0.1", port=port)):

        def get(target: str, host: str) -> str:
            return (
                f"GET {target} HTTP/1.1\r\nHost: {host}\r\nAccept: application/json\r\n"
                "Connection: close\r\n\r\n"
            )

        status, body = await raw_request(
            port, get("http://evil.example/properties", f"localhost:{port}")
        )
        assert status == 403
        assert b"evil.example" in body  # named in the refusal, not served
        status, body = await raw_request(port, get(f"http://localhost:{port}/", "evil.example"))
        assert status == 200
        assert json.loads(body)["base"] == f"http://localhost:{port}/"
        status, _ = await raw_request(port, get("http://user@localhost/", f"localhost:{port}"))
        assert status == 400
        status, _ = await raw_request(port, get("ftp://localhost/", f"localhost:{port}"))
        assert status == 400
        for host in (
            f"localhost:{port}.evil.com",
            "[::1].evil.com",
            "localhost:@evil.example",
            f"127.0.0.1:{port}@evil.example",
            f"localhost..:{port}",
        ):
            status, body = await raw_request(port, get("/", host))
            assert status == 400, host
            assert b"base" not in body


# -- behind a reverse proxy -------------------------------------------------------------


FORWARDED = [
    {"X-Forwarded-Host": "lamp.example.org", "X-Forwarded-Proto": "https"},
    {"Forwarded": 'for=192.0.2.9;host="lamp.example.org";proto=https'},
    # A client's own header ahead of the proxy's: only the proxy's (the last) counts.
    {"X-Forwarded-Host": "evil.com, lamp.example.org", "X-Forwarded-Proto": "http, https"},
]


@pytest.mark.parametrize("headers", FORWARDED)
async def test_a_trusted_proxy_names_the_host_and_scheme(headers: dict[str, str]) -> None:
    server = lamp_server(trusted_proxies=["10.0.0.0/24"], allowed_hosts=["lamp.example.org"])
    async with started(server.create()) as client:
        response = await client.get(
            "/",
            headers={"Host": "localhost:8888", "Accept": "application/json", **headers},
            scope_base={"client": ("10.0.0.7", 40000)},
        )
        td = await response.get_json()
        assert td["base"] == "https://lamp.example.org/"
        assert td["links"][3]["href"] == "wss://lamp.example.org/"
        # The page behind the proxy is the server's own: its origin is the proxy's.
        own = await client.put(
            "/properties/on",
            json={"on": False},
            headers={"Host": "localhost:8888", "Origin": "https://lamp.example.org", **headers},
            scope_base={"client": ("10.0.0.7", 40000)},
        )
        assert own.status_code == 200


@pytest.mark.parametrize("headers", FORWARDED)
async def test_forwarded_headers_from_anyone_else_are_ignored(headers: dict[str, str]) -> None:
    for server in (
        lamp_server(allowed_hosts=["lamp.example.org"]),
        lamp_server(trusted_proxies=["10.0.0.1"], allowed_hosts=["lamp.example.org"]),
    ):
        async with started(server.create()) as client:
            response = await client.get(
                "/",
                headers={"Host": "localhost:8888", "Accept": "application/json", **headers},
                scope_base={"client": ("10.0.0.7", 40000)},
            )
            assert (await response.get_json())["base"] == "http://localhost:8888/"


async def test_a_trusted_proxy_cannot_forward_a_foreign_host() -> None:
    server = lamp_server(trusted_proxies=["10.0.0.7"])
    async with started(server.create()) as client:
        for forwarded in ("evil.com", "lamp.example.org:443.evil.com"):
            response = await client.get(
                "/",
                headers={"Host": "localhost", "X-Forwarded-Host": forwarded},
                scope_base={"client": ("10.0.0.7", 40000)},
            )
            assert response.status_code in (400, 403), forwarded


def test_trusted_proxies_must_be_addresses() -> None:
    with pytest.raises(ValueError, match="trusted proxy"):
        lamp_server(trusted_proxies=["gateway.local"])

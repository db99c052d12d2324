"""Connections are capped (websockets and SSE streams, in total and per client address) with a
reserve of file descriptors, so one client holding many connections cannot stop the server
answering anyone else."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.support import ROOT, TIMEOUT, eventually, free_port, lamp_server, serving
from tests.thingtalk.protocols.raw import RawSocket, open_raw
from thingtalk import Limits

from .processes import lamp_process, limited

CAPS = Limits(
    max_websockets=5, max_websockets_per_client=3, max_streams=3, max_streams_per_client=2
)


@contextlib.asynccontextmanager
async def sockets() -> AsyncIterator[list[RawSocket]]:
    opened: list[RawSocket] = []
    try:
        yield opened
    finally:
        for raw in opened:
            raw.close()


async def websocket(port: int, source: str, opened: list[RawSocket]) -> int:
    raw = await open_raw(port, "/", source=source)
    opened.append(raw)
    return raw.status


async def stream(port: int, source: str) -> tuple[int, bytes, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
    writer.write(b"GET /wot/sse/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT)
    body = b""
    if b"content-length" in head.lower():
        size = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
        body = await reader.readexactly(size)
    return int(head.split(b" ", 2)[1]), body, writer


async def test_websockets_over_a_cap_are_refused_and_the_api_stays_up() -> None:
    server = lamp_server(host="127.0.0.1", port=free_port(), limits=CAPS)
    async with serving(server) as base, sockets() as opened, httpx.AsyncClient() as http:
        port = server.port
        # Per client address: three from 127.0.0.2, the fourth is refused with 503.
        assert [await websocket(port, "127.0.0.2", opened) for _ in range(4)] == [101] * 3 + [503]
        assert b"retry-after: 5" in opened[-1].headers.lower()
        # Another address still gets in, up to the total of five.
        assert [await websocket(port, "127.0.0.3", opened) for _ in range(2)] == [101, 101]
        assert await websocket(port, "127.0.0.4", opened) == 503
        # Plain HTTP is never capped: the page and the API answer.
        assert (await http.get(f"{base}/properties")).status_code == 200
        assert (await http.get(f"{base}/", headers={"Accept": "text/html"})).status_code == 200
        # A socket that goes frees its place.
        opened[0].close()
        await eventually(lambda: _open(server, "websocket") == 4)
        assert await websocket(port, "127.0.0.4", opened) == 101


async def test_event_streams_over_a_cap_get_503_problem_details() -> None:
    server = lamp_server(host="127.0.0.1", port=free_port(), limits=CAPS)
    writers: list[asyncio.StreamWriter] = []
    async with serving(server) as base, httpx.AsyncClient() as http:
        port = server.port
        for source, expected in [("127.0.0.2", 200), ("127.0.0.2", 200), ("127.0.0.3", 200)]:
            status, _, writer = await stream(port, source)
            writers.append(writer)
            assert status == expected
        status, body, writer = await stream(port, "127.0.0.2")  # over the per-client cap
        writers.append(writer)
        assert status == 503 and b'"status":503' in body and b"127.0.0.2" in body
        status, body, writer = await stream(port, "127.0.0.4")  # over the total
        writers.append(writer)
        assert status == 503 and b"event streams are open" in body
        assert (await http.get(f"{base}/wot/properties")).status_code == 200
        for writer in writers:
            writer.close()
        await eventually(lambda: _open(server, "stream") == 0)


def _open(server: object, kind: str) -> int:
    from thingtalk.protocols.limits import ConnectionLimits

    app = server.app  # type: ignore[attr-defined]
    layer = app.asgi_app
    while not isinstance(layer, ConnectionLimits):
        layer = layer.app
    count: int = layer.open[kind]  # type: ignore[index]
    return count


# -- the file limit ------------------------------------------------------------------------


RAISE = textwrap.dedent(
    """
    import resource, sys
    from thingtalk.protocols.limits import raise_file_limit
    print(raise_file_limit(int(sys.argv[1])), *resource.getrlimit(resource.RLIMIT_NOFILE))
    """
)


@pytest.mark.parametrize(
    ("soft", "hard", "needed", "after"),
    [
        (256, 4096, 1000, (1000, 4096)),  # raised to what is needed
        (256, 512, 1000, (512, 512)),  # as far as the hard limit goes, with a warning
        (2000, 4096, 1000, (2000, 4096)),  # never lowered
    ],
)
def test_the_soft_file_limit_is_raised_to_what_the_caps_need(
    soft: int, hard: int, needed: int, after: tuple[int, int]
) -> None:
    result = subprocess.run(
        [sys.executable, "-c", RAISE, str(needed)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        preexec_fn=lambda: limited(soft, hard),
    )
    limit, *now = map(int, result.stdout.split())
    assert (limit, tuple(now)) == (after[0], after)
    assert ("hard limit is 512" in result.stderr) == (hard < needed)


# -- one client holding a thousand websockets ----------------------------------------------


async def test_a_thousand_websockets_from_one_client_leave_the_server_answering(
    tmp_path: Path,
) -> None:
    with lamp_process(tmp_path) as (port, proc):
        await _hog_and_check(port, proc)


async def _hog_and_check(port: int, proc: subprocess.Popen[bytes]) -> None:
    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=base, timeout=TIMEOUT) as http:

        async def answering() -> bool:
            assert proc.poll() is None, "the lamp exited"
            with contextlib.suppress(httpx.HTTPError):
                return (await http.get("/properties")).status_code == 200
            return False

        await eventually(answering, 30)
        statuses: list[int] = []
        async with sockets() as hog:
            for _ in range(1_007 // 53):  # 1,007 handshakes, 53 at a time
                batch = await asyncio.gather(
                    *(websocket(port, "127.0.0.2", hog) for _ in range(53)),
                    return_exceptions=True,
                )
                statuses += [s if isinstance(s, int) else 0 for s in batch]
                # Refused handshakes end their connections: only the accepted ones stay.
                for raw in [r for r in hog if r.status != 101]:
                    raw.close()
                    hog.remove(raw)
            assert len(statuses) == 1_007
            assert statuses.count(101) == Limits().max_websockets_per_client
            assert statuses.count(503) == 1_007 - statuses.count(101)
            # Everyone else is still served: the API, the page, and a websocket of their own.
            assert (await http.get("/properties")).json() == {"on": True, "brightness": 50}
            page = await http.get("/", headers={"Accept": "text/html"})
            assert page.status_code == 200
            async with sockets() as mine:
                assert await websocket(port, "127.0.0.1", mine) == 101
                mine[0].send('{"messageType": "setProperty", "data": {"brightness": 7}}')
                _, payload = await mine[0].receive()
                assert b'"brightness":7' in payload
        assert proc.poll() is None

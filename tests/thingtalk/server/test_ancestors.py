"""The server's ancestral entry points: the seed's WebThingServer(loop, things) and
webthing-python's start()/stop()."""

from __future__ import annotations

import asyncio
import threading

import httpx
import pytest

from tests.support import free_port, lamp_class, lamp_server
from thingtalk import WebThingServer, background_thread_loop


async def test_the_seeds_loop_argument_is_accepted_and_the_things_follow_it() -> None:
    with background_thread_loop() as loop:
        assert loop.is_running()
        server = WebThingServer(loop, lamp_class(), discovery=False)
    assert loop.is_closed()  # the block's loop is gone; the app does not need it
    async with server.create().test_app() as app:
        response = await app.test_client().get("/properties/brightness")
        assert await response.get_json() == {"brightness": 50}


def test_the_things_are_needed_once() -> None:
    loop = asyncio.new_event_loop()
    try:
        with pytest.raises(TypeError, match="things are missing"):
            WebThingServer(loop)
    finally:
        loop.close()
    with pytest.raises(TypeError, match="once"):
        WebThingServer(lamp_class(), lamp_class())


def test_stop_from_another_thread_ends_start() -> None:
    port = free_port()
    server = lamp_server(host="127.0.0.1", port=port)
    ended = threading.Event()
    failures: list[BaseException] = []

    def serve() -> None:
        try:
            server.start()
        except BaseException as exc:  # reported below
            failures.append(exc)
        finally:
            ended.set()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}/properties/on"
    for _ in range(400):
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if ended.wait(0.025):
            break
    assert httpx.get(url, timeout=1).json() == {"on": True}
    server.stop()  # waits until the server has stopped
    assert ended.wait(10) and failures == []
    thread.join(5)
    server.stop()  # after it stopped: nothing to do

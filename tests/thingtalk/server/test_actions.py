"""Actions and events through the server: bounded histories, cancellation on DELETE and shutdown."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from quart.testing import QuartClient

from tests.support import eventually, free_port, lamp_server, started
from thingtalk import Action, ActionStatus

from .conftest import Blocker, Machine

TICK: dict[str, Any] = {"tick": {}}
BLOCK: dict[str, Any] = {"block": {}}


async def request_action(client: QuartClient, body: dict[str, Any]) -> str:
    response = await client.post("/actions", json=body)
    assert response.status_code == 201, await response.get_data()
    href: str = (await response.get_json())[next(iter(body))]["href"]
    return href


def action_of(machine: Machine, href: str) -> Action:
    return machine.actions[href.rsplit("/", 1)[-1]]


async def test_action_history_is_bounded() -> None:
    machine = Machine(action_history=3, event_history=2)
    async with started(lamp_server(machine).create()) as client:
        hrefs = []
        for _ in range(5):
            hrefs.append(await request_action(client, TICK))
            action = action_of(machine, hrefs[-1])
            await eventually(action.done.is_set)  # set once finished
        listed = await (await client.get("/actions")).get_json()
        assert [a["tick"]["href"] for a in listed] == hrefs[2:]
        assert [a["tick"]["status"] for a in listed] == ["completed"] * 3
        for href in hrefs[:2]:
            assert (await client.get(href)).status_code == 404


async def test_event_history_is_bounded() -> None:
    machine = Machine(event_history=2)
    async with started(lamp_server(machine).create()) as client:
        for n in range(4):
            machine.raise_event("ticked", n)
        events = await (await client.get("/events")).get_json()
        assert [e["ticked"]["data"] for e in events] == [2, 3]
        named = await (await client.get("/events/ticked")).get_json()
        assert named == events


async def test_full_history_of_running_actions_refuses_more() -> None:
    machine = Machine(action_history=2)
    async with started(lamp_server(machine).create()) as client:
        first = await request_action(client, BLOCK)
        await request_action(client, BLOCK)
        response = await client.post("/actions", json=BLOCK)
        assert response.status_code == 503
        assert (await response.get_json())["error"] == "busy"
        assert len(machine.actions) == 2
        blocker = action_of(machine, first)
        assert isinstance(blocker, Blocker)
        blocker.release.set()
        await eventually(lambda: blocker.finished)
        await request_action(client, BLOCK)
        assert len(machine.actions) == 2


async def test_delete_cancels_a_running_action() -> None:
    machine = Machine()
    async with started(lamp_server(machine).create()) as client, client.websocket("/") as ws:
        await ws.send("{}")  # one round trip: the session has joined
        assert json.loads(await ws.receive())["messageType"] == "error"
        href = await request_action(client, BLOCK)
        action = action_of(machine, href)
        assert isinstance(action, Blocker)
        await asyncio.wait_for(action.started.wait(), 5)
        assert (await client.get(href)).status_code == 200

        response = await client.delete(href)
        assert response.status_code == 204
        assert await response.get_data() == b""
        assert action.status is ActionStatus.CANCELLED
        assert action.task is not None and action.task.done()
        assert action.cleaned_up and not action.reached_end
        assert (await client.get(href)).status_code == 404
        assert await (await client.get("/actions")).get_json() == []

        statuses = []
        while "cancelled" not in statuses:
            message = json.loads(await asyncio.wait_for(ws.receive(), 5))
            statuses.append(message["data"]["block"]["status"])
        assert statuses == ["created", "pending", "cancelled"]
    assert not machine.tasks


async def test_delete_of_a_finished_action_just_drops_it() -> None:
    machine = Machine()
    async with started(lamp_server(machine).create()) as client:
        href = await request_action(client, TICK)
        action = action_of(machine, href)
        await eventually(lambda: action.finished)
        assert (await client.delete(href)).status_code == 204
        assert action.status is ActionStatus.COMPLETED
        assert (await client.delete(href)).status_code == 404


async def test_shutdown_cancels_running_actions() -> None:
    machine = Machine()
    async with started(lamp_server(machine).create()) as client:
        hrefs = [await request_action(client, BLOCK) for _ in range(3)]
        actions = [action_of(machine, h) for h in hrefs]
        assert all(isinstance(a, Blocker) for a in actions)
        await eventually(lambda: all(a.started.is_set() for a in actions if isinstance(a, Blocker)))
    for action in actions:
        assert isinstance(action, Blocker)
        assert action.status is ActionStatus.CANCELLED
        assert action.task is not None and action.task.done()
        assert action.cleaned_up and not action.reached_end
    assert not machine.tasks


async def test_hypercorn_shutdown_cancels_running_actions() -> None:
    machine = Machine()
    server = lamp_server(machine, host="127.0.0.1", port=free_port())
    shutdown = asyncio.Event()
    task = asyncio.create_task(server.serve(shutdown))

    async def post() -> Any:
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as http:
                return await http.post("/actions", json=BLOCK)
        except httpx.ConnectError:
            return None

    response = await eventually(post)
    assert response.status_code == 201
    action = action_of(machine, response.json()["block"]["href"])
    assert isinstance(action, Blocker)
    await asyncio.wait_for(action.started.wait(), 5)
    shutdown.set()
    await asyncio.wait_for(task, 10)
    assert action.status is ActionStatus.CANCELLED
    assert action.cleaned_up and not action.reached_end
    assert not machine.tasks


async def test_lamp_fade_cancelled_keeps_brightness() -> None:
    server = lamp_server()
    lamp = server.things.things[0]
    async with started(server.create()) as client:
        body = {"fade": {"input": {"brightness": 5, "duration": 60_000}}}
        response = await client.post("/actions/fade", json=body)
        href = (await response.get_json())["fade"]["href"]
        action = lamp.actions[href.rsplit("/", 1)[-1]]
        await eventually(lambda: action.status is ActionStatus.PENDING)
        assert (await client.delete(href)).status_code == 204
        assert action.status is ActionStatus.CANCELLED
        assert await (await client.get("/properties/brightness")).get_json() == {"brightness": 50}
        assert await (await client.get("/events")).get_json() == []

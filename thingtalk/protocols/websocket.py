"""The WebThings websocket on a thing's own URL."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any

from quart import Quart, current_app, websocket

from ..errors import BadRequest, NotFound, PayloadTooLarge, ThingtalkError
from .hub import Session
from .state import ServedThing, app_state
from .webthings import action_input, thing_paths
from .wire import dumps, loads, websocket_error

# Close codes (RFC 6455): 1008 policy violation, 1013 try again later (client too slow).
CLOSE_TOO_SLOW = 1013


async def handle_message(served: ServedThing, session: Session, raw: str | bytes) -> None:
    """Apply one client message; raise an :class:`ThingtalkError` for a bad one."""
    message = loads(raw)
    if not isinstance(message, dict) or not isinstance(message.get("data"), dict):
        raise BadRequest('expected {"messageType": ..., "data": {...}}')
    kind, data = message.get("messageType"), message["data"]
    thing = served.thing
    if kind == "setProperty":
        await thing.set_properties(data)
    elif kind == "requestAction":
        requests: list[tuple[str, Any]] = []
        for name, body in data.items():
            input_ = action_input(name, body)  # the shape REST accepts, extra keys refused
            thing.validate_action_input(name, input_)
            requests.append((name, input_))
        for name, input_ in requests:  # all checked first: a bad one starts none
            thing.perform_action(name, input_)
    elif kind == "addEventSubscription":
        for name in data:
            thing.find_available_event(name)
        session.subscriptions.update(data)
    else:
        expected = "setProperty, requestAction or addEventSubscription"
        raise BadRequest(f"unknown messageType {kind!r}; expected {expected}")


async def _receive(served: ServedThing, session: Session, limit: int) -> None:
    while True:
        raw = await websocket.receive()
        try:
            if len(raw) > limit:
                raise PayloadTooLarge(f"message of {len(raw)} bytes; the limit is {limit}")
            await handle_message(served, session, raw)
        except ThingtalkError as error:
            # A broken frame gets an error message; the socket stays open and usable.
            session.offer(dumps(websocket_error(error)).decode())


async def pump(
    receive: Coroutine[Any, Any, None], queue: asyncio.Queue[str], overflowed: asyncio.Event
) -> None:
    """Run a socket: its receive loop, and its send queue drained to the client, until the
    client leaves or falls so far behind that its queue overflowed (then close it, 1013)."""

    async def send() -> None:
        while True:
            await websocket.send(await queue.get())

    tasks = [
        asyncio.ensure_future(receive),
        asyncio.ensure_future(send()),
        asyncio.ensure_future(overflowed.wait()),
    ]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        if tasks[2] in done:
            await websocket.close(CLOSE_TOO_SLOW, "too slow to keep up")
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
    finally:
        for task in tasks:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*tasks, return_exceptions=True)


async def thing_socket(thing_id: int | None = None) -> None:
    """Serve one websocket client of a thing until it leaves."""
    state = app_state(current_app)
    try:
        served = state.resolve(thing_id)
    except NotFound:
        await websocket.close(1008)
        return
    session = Session(state.options.max_websocket_queue)
    # Joined before the handshake completes: a client hears every change made after it
    # sees the socket open (what it missed before is in the REST state).
    served.hub.join(session)
    try:
        await websocket.accept()
        receive = _receive(served, session, state.options.max_body_size)
        await pump(receive, session.queue, session.overflowed)
    finally:
        served.hub.leave(session)


def register(app: Quart, rule: str) -> None:
    """Add the websocket route on each thing's URL."""
    app.add_websocket(rule or "/", "thing_socket", thing_socket)


def register_for(app: Quart) -> None:
    """Add the websocket route for the app's things."""
    register(app, thing_paths(app_state(app)))

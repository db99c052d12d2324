"""The WebThings websocket: ``setProperty``, ``requestAction`` and ``addEventSubscription``."""

from __future__ import annotations

from typing import Any

from quart import current_app, websocket

from ..errors import BadRequest, NotFound, PayloadTooLarge, ThingtalkError
from .hub import Session
from .pump import pump
from .state import ServedThing, app_state
from .webthings import action_input
from .wire import dumps, loads, websocket_error

# Close code (RFC 6455) 1008: policy violation (no such thing).
CLOSE_NO_THING = 1008


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


async def serve(thing_id: int | None = None) -> None:
    """Serve one WebThings websocket client of a thing until it leaves."""
    state = app_state(current_app)
    try:
        served = state.resolve(thing_id)
    except NotFound:
        await websocket.close(CLOSE_NO_THING)
        return
    session = Session(state.options.max_websocket_queue)
    # Joined before the handshake completes: a client hears every change made after it
    # sees the socket open (what it missed before is in the REST state).
    served.hub.join(session)
    try:
        await websocket.accept()
        receive = _receive(served, session, state.options.max_body_size)
        await pump(receive, session.queue, session.overflowed, state.stopping, session.mark_sent)
    finally:
        served.hub.leave(session)

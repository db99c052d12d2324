"""The WebThings websocket: ``setProperty``, ``requestAction`` and ``addEventSubscription``."""

from __future__ import annotations

import logging
from typing import Any

from quart import current_app, websocket

from ..errors import BadRequest, NotFound, PayloadTooLarge, ThingtalkError
from .hub import Session
from .outbox import Outbox
from .pump import pump
from .state import ServedThing, app_state
from .webthings import action_input
from .wire import MAX_JSON_DEPTH, dumps, loads, websocket_error

log = logging.getLogger(__name__)

# Close code (RFC 6455) 1008: policy violation (no such thing).
CLOSE_NO_THING = 1008


async def handle_message(
    served: ServedThing, session: Session, raw: str | bytes, max_depth: int = MAX_JSON_DEPTH
) -> None:
    """Apply one client message; raise an :class:`ThingtalkError` for a bad one."""
    message = loads(raw, max_depth)
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


async def serve(thing_id: int | None = None) -> None:
    """Serve one WebThings websocket client of a thing until it leaves."""
    state = app_state(current_app)
    try:
        served = state.resolve(thing_id)
    except NotFound:
        await websocket.close(CLOSE_NO_THING)
        return
    limits = state.options.limits
    size_limit = state.options.max_body_size
    session = Session(Outbox(limits.max_queued, limits.max_queued_bytes, limits.max_replies))

    async def handle(raw: str | bytes) -> None:
        try:
            if len(raw) > size_limit:
                raise PayloadTooLarge(f"message of {len(raw)} bytes; the limit is {size_limit}")
            await handle_message(served, session, raw, limits.max_json_depth)
        except ThingtalkError as error:
            # A broken frame gets an error message; the socket stays open and usable.
            session.outbox.put_reply(dumps(websocket_error(error)).decode())
        except Exception:
            # A device that failed (a bug, not the client's doing) must not end the socket.
            log.exception("websocket message to %r failed", served.thing)
            failed = ThingtalkError("the thing failed to carry out the message")
            session.outbox.put_reply(dumps(websocket_error(failed)).decode())

    # Joined before the handshake completes: a client hears every change made after it
    # sees the socket open (what it missed before is in the REST state).
    served.hub.join(session)
    try:
        await websocket.accept()
        await pump(handle, session.outbox, limits, state.stopping, session.mark)
    finally:
        served.hub.leave(session)

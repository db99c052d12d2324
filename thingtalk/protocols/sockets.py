"""The websocket on each thing's URL: one view, the protocol chosen by the handshake.

A client that asks for the ``webthingprotocol`` sub-protocol gets the Web Thing Protocol
(:mod:`.wtp`); any other client gets the WebThings websocket (:mod:`.websocket`). Both run
their socket through :func:`.pump.pump`.
"""

from __future__ import annotations

from quart import Blueprint, websocket

from . import websocket as webthings_socket
from . import wtp
from .state import AppState
from .webthings import thing_paths


async def thing_socket(thing_id: int | None = None) -> None:
    """Serve one websocket client of a thing in the protocol it asked for."""
    if wtp.SUBPROTOCOL in websocket.requested_subprotocols:
        await wtp.serve(thing_id)
    else:
        await webthings_socket.serve(thing_id)


def blueprint(state: AppState) -> Blueprint:
    """The websocket route on each thing's URL."""
    bp = Blueprint("socket", __name__)
    bp.add_websocket(thing_paths(state) or "/", "thing_socket", thing_socket)
    return bp

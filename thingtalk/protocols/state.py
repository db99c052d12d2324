"""What an app serves: its things, where, and with which options."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from quart import Quart, Response, request

from ..errors import NotFound
from ..limits import Limits
from ..thing import Thing
from ..things import MultipleThings, ThingsCollection
from .asgi import ORIGINS_KEY
from .hub import Hub
from .sse import Journal

Renderer = Callable[["ServedThing"], Awaitable[Response]]
IndexRenderer = Callable[[], Awaitable[Response]]


@dataclass(eq=False)
class ServedThing:
    """A thing and the path it is served under."""

    thing: Thing
    index: int | None
    href_prefix: str  # "" for a single thing at the root, "/0", "/things/0", ...
    sse_replay: int = 256
    precise_event_times: bool = False
    hub: Hub = field(init=False)  # the WebThings websockets' fan-out
    journal: Journal = field(init=False)  # the SSE streams' numbered changes

    def __post_init__(self) -> None:
        self.hub = Hub(self.thing, self.href_prefix, precise_event_times=self.precise_event_times)
        self.journal = Journal(self.thing, self.sse_replay)

    @property
    def path(self) -> str:
        """The thing's own URL path."""
        return self.href_prefix or "/"


@dataclass
class Options:
    """Settings of the protocols layer."""

    base_path: str = ""
    context: str = "https://webthings.io/schemas"
    max_body_size: int = 64 * 1024
    limits: Limits = field(default_factory=Limits)  # what one client may use
    sse_keepalive: float = 15.0  # seconds between keepalive comments on idle SSE streams
    sse_replay: int = 256  # changes per thing kept for SSE Last-Event-ID resumption
    # The WebThings dialect as the WebThings gateway needs it (see WebThingServer).
    strict_input_schemas: bool = False
    precise_event_times: bool = False
    lean: bool = True  # answer the hot requests without Quart's machinery (protocols/lean.py)


@dataclass(eq=False)
class AppState:
    """Everything the routes need, kept on the app (never in a module global)."""

    collection: ThingsCollection
    options: Options
    served: list[ServedThing]
    # Alternative representations of a thing's URL by media type (the page, the W3C TD),
    # and of the list of things (the index page), added by the blueprints that serve them.
    representations: dict[str, Renderer] = field(default_factory=dict)
    index_representations: dict[str, IndexRenderer] = field(default_factory=dict)
    # Set when the server stops: open websockets close (1001) and event streams end at once,
    # instead of holding the shutdown until the ASGI server cancels them.
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    needs_token: bool = False  # the TDs then declare the bearer scheme

    @classmethod
    def build(cls, collection: ThingsCollection, options: Options) -> AppState:
        """Lay the things out under ``options.base_path``."""
        base = options.base_path.rstrip("/")
        precise = options.precise_event_times
        if isinstance(collection, MultipleThings):
            served = [
                ServedThing(t, i, f"{base}/{i}", options.sse_replay, precise)
                for i, t in enumerate(collection.things)
            ]
        else:
            served = [ServedThing(collection.thing, None, base, options.sse_replay, precise)]
        return cls(collection, options, served)

    def stop_connections(self) -> None:
        """Close the open websockets and end the event streams: the server is stopping."""
        self.stopping.set()
        for served in self.served:
            served.journal.end_streams()

    @property
    def multiple(self) -> bool:
        """True when things are served at ``/<index>``."""
        return isinstance(self.collection, MultipleThings)

    def resolve(self, thing_id: int | None) -> ServedThing:
        """The served thing for a route's ``thing_id`` (None for a single thing)."""
        if thing_id is None:
            return self.served[0]
        if 0 <= thing_id < len(self.served):
            return self.served[thing_id]
        raise NotFound(f"no thing {thing_id}; there are {len(self.served)}")


def app_state(app: Quart) -> AppState:
    """The :class:`AppState` of ``app``."""
    state: AppState = app.extensions["thingtalk"]
    return state


def origins(scope: Mapping[str, Any] | None = None) -> tuple[str, str]:
    """``(http origin, websocket origin)`` as the client of ``scope`` (by default the current
    request's) reached us.

    Built by the front door from the validated Host (or a trusted proxy's forwarded host),
    never from the raw header: a Thing Description must not carry a name a client made up.
    """
    addressed = (request.scope if scope is None else scope).get(ORIGINS_KEY)
    if not isinstance(addressed, tuple):  # served without the front door: no Host to trust
        return "http://localhost", "ws://localhost"
    http_origin, ws_origin = addressed
    return str(http_origin), str(ws_origin)

"""What an app serves: its things, where, and with which options."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from quart import Quart, Response, request

from ..errors import NotFound
from ..limits import Limits
from ..thing import Thing
from ..things import MultipleThings, ThingsCollection
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
    hub: Hub = field(init=False)  # the WebThings websockets' fan-out
    journal: Journal = field(init=False)  # the SSE streams' numbered changes

    def __post_init__(self) -> None:
        self.hub = Hub(self.thing, self.href_prefix)
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

    @classmethod
    def build(cls, collection: ThingsCollection, options: Options) -> AppState:
        """Lay the things out under ``options.base_path``."""
        base = options.base_path.rstrip("/")
        if isinstance(collection, MultipleThings):
            served = [
                ServedThing(t, i, f"{base}/{i}", options.sse_replay)
                for i, t in enumerate(collection.things)
            ]
        else:
            served = [ServedThing(collection.thing, None, base, options.sse_replay)]
        return cls(collection, options, served)

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


def origins() -> tuple[str, str]:
    """``(http origin, websocket origin)`` as the current client reached us."""
    host = request.headers.get("Host", "localhost")
    secure = request.scheme in ("https", "wss")
    return (f"{'https' if secure else 'http'}://{host}", f"{'wss' if secure else 'ws'}://{host}")

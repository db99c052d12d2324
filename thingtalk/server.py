"""``WebThingServer``: things, the Quart app, mDNS, and Hypercorn, with the extension points."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import inspect
import logging
import signal
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from quart import Blueprint, Quart

from .limits import Limits
from .protocols.app import ASGIMiddleware, create_app
from .protocols.limits import raise_file_limit
from .protocols.state import Options
from .thing import Thing
from .things import MultipleThings, SingleThing, ThingsCollection

log = logging.getLogger(__name__)

Handler = Callable[[], Awaitable[None] | None]
#: Seconds TCP keeps trying after the app gave up on a client that stopped reading.
USER_TIMEOUT_MARGIN = 30.0
ThingsArg = ThingsCollection | Thing | type[Thing] | Sequence[Thing | type[Thing]]


@dataclass(frozen=True)
class Route:
    """An extra HTTP route: ``Route("/health", view, ("GET",))``."""

    rule: str
    view: Callable[..., Any]
    methods: tuple[str, ...] = ("GET",)


def as_collection(things: ThingsArg, name: str | None = None) -> ThingsCollection:
    """Accept a Thing (class or instance), a list of them, SingleThing or MultipleThings."""
    if isinstance(things, SingleThing | MultipleThings):
        return things
    if isinstance(things, Thing | type):
        return SingleThing(_instance(things))
    items = [_instance(t) for t in things]
    return MultipleThings(items, name or (items[0].title if len(items) == 1 else "Things"))


def _instance(thing: Thing | type[Thing]) -> Thing:
    if isinstance(thing, type):
        if not issubclass(thing, Thing):
            raise TypeError(f"{thing!r} is not a Thing subclass")
        return thing()
    return thing


async def _call(handler: Handler) -> None:
    result = handler()
    if inspect.isawaitable(result):
        await result


class WebThingServer:
    """Serves things over the WebThings API (and W3C WoT), and advertises them over mDNS.

    ``create()`` gives the Quart app (``hypercorn module:app`` serves it); ``serve()`` and
    ``run()`` serve it on Hypercorn themselves. The extension points:
    ``additional_routes`` (:class:`Route`\\ s or Quart blueprints),
    ``additional_middlewares`` (ASGI middleware factories, ``app -> app``), and
    ``additional_on_startup`` / ``additional_on_shutdown`` (sync or async callables).
    """

    def __init__(
        self,
        things: ThingsArg,
        *,
        port: int = 80,
        host: str = "0.0.0.0",
        hostname: str | None = None,
        name: str | None = None,
        base_path: str = "",
        ssl_context: ssl.SSLContext | None = None,
        certfile: str | None = None,
        keyfile: str | None = None,
        additional_routes: Iterable[Route | Blueprint] | None = None,
        additional_middlewares: Iterable[ASGIMiddleware] | None = None,
        additional_on_startup: Iterable[Handler] | None = None,
        additional_on_shutdown: Iterable[Handler] | None = None,
        disable_host_validation: bool = False,
        allowed_hosts: Iterable[str] = (),
        discovery: bool = True,
        discovery_interfaces: Sequence[str] | None = None,
        publish_addresses: bool = True,
        context: str = "https://webthings.io/schemas",
        max_body_size: int = 64 * 1024,
        freeze_gc: bool = False,
        limits: Limits | None = None,
    ) -> None:
        self.things = as_collection(things, name)
        self.port = port
        self.host = host
        self.hostname = hostname
        self.base_path = "/" + base_path.strip("/") if base_path.strip("/") else ""
        self.certfile, self.keyfile = certfile, keyfile
        self.tls = bool(certfile)
        self.additional_routes = list(additional_routes or ())
        self.additional_middlewares = list(additional_middlewares or ())
        self.additional_on_startup = list(additional_on_startup or ())
        self.additional_on_shutdown = list(additional_on_shutdown or ())
        self.disable_host_validation = disable_host_validation
        self.allowed_hosts = list(allowed_hosts)
        self.discovery = discovery
        self.discovery_interfaces = list(discovery_interfaces) if discovery_interfaces else None
        self.publish_addresses = publish_addresses
        self.freeze_gc = freeze_gc
        self.limits = limits or Limits()
        self.options = Options(
            base_path=self.base_path,
            context=context,
            max_body_size=max_body_size,
            limits=self.limits,
        )
        self.app: Quart | None = None
        self.advertiser: Any = None
        self._discovery_task: asyncio.Task[None] | None = None

    @property
    def name(self) -> str:
        """The name advertised over mDNS."""
        return self.things.name

    def host_names(self) -> set[str]:
        """Names the Host header may carry besides the machine's own names and addresses."""
        names = set(self.allowed_hosts)
        if self.hostname:
            names |= {self.hostname, f"{self.hostname}.local"}
        return names

    def create(self) -> Quart:
        """Build the Quart app (once)."""
        if self.app is not None:
            return self.app
        app = create_app(
            self.things,
            self.options,
            allowed_hosts=None if self.disable_host_validation else self.host_names(),
            middlewares=self.additional_middlewares,
        )
        for route in self.additional_routes:
            if isinstance(route, Blueprint):
                app.register_blueprint(route)
            else:
                app.add_url_rule(route.rule, view_func=route.view, methods=list(route.methods))

        @app.before_serving
        async def _startup() -> None:
            if self.discovery:
                # mDNS probing takes about two seconds: announce in the background rather
                # than keep clients waiting for the first answer.
                self._discovery_task = asyncio.create_task(self._start_discovery())
            for handler in self.additional_on_startup:
                await _call(handler)
            if self.freeze_gc:
                # What is alive now (modules, things, the app) lives as long as the server:
                # keep the cyclic GC from scanning it on every full collection (measured in
                # bench/: GET p99 69 -> 10 ms, CPU per GET -11 %). Off by default: it is
                # the whole process's GC, which a program embedding the server owns.
                gc.collect()
                gc.freeze()

        @app.after_serving
        async def _shutdown() -> None:
            for handler in self.additional_on_shutdown:
                await _call(handler)
            await self._stop_discovery()

        self.app = app
        return app

    async def _start_discovery(self) -> None:
        from .discovery import Advertiser

        self.advertiser = Advertiser(
            self.name,
            self.port,
            webthing_path=self.base_path or "/",
            # WoT Discovery: /.well-known/wot is the thing's TD, or a directory's for several.
            td_path="/.well-known/wot",
            wot_type="Directory" if isinstance(self.things, MultipleThings) else "Thing",
            tls=self.tls,
            interfaces=self.discovery_interfaces,
            publish_addresses=self.publish_addresses,
        )
        try:
            await self.advertiser.start()
        except Exception:  # a network without multicast must not take the things down
            log.exception("mDNS advertising failed; the things are served but not announced")

    async def _stop_discovery(self) -> None:
        task, self._discovery_task = self._discovery_task, None
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        if self.advertiser is not None:
            await self.advertiser.stop()
            self.advertiser = None

    def hypercorn_config(self) -> Any:
        """The Hypercorn configuration ``serve`` uses."""
        from hypercorn.config import Config

        config = Config()
        host = f"[{self.host}]" if ":" in self.host else self.host
        config.bind = [f"{host}:{self.port}"]
        config.certfile, config.keyfile = self.certfile, self.keyfile
        config.graceful_timeout = 3.0  # websocket clients stay open; don't hold shutdown for them
        config.accesslog = None
        # A message over the app's own limit is refused (1009) before it is buffered whole,
        # not after Hypercorn has held up to its default 16 MiB of it.
        config.websocket_max_message_size = self.options.max_body_size
        # Pings keep data in flight to idle peers, so one that vanished is noticed.
        config.websocket_ping_interval = self.limits.ping_interval
        create_sockets = config.create_sockets

        def tuned_sockets() -> Any:
            sockets = create_sockets()
            for sock in [*sockets.secure_sockets, *sockets.insecure_sockets]:
                _abandon_stuck_peers(sock, self.limits.subscriber_deadline)
            return sockets

        config.create_sockets = tuned_sockets  # type: ignore[method-assign]
        return config

    async def serve(self, shutdown: asyncio.Event | None = None) -> None:
        """Serve on Hypercorn until ``shutdown`` is set."""
        from hypercorn.asyncio import serve

        shutdown = shutdown or asyncio.Event()
        # Every websocket and stream the caps allow, and the reserve, need a descriptor each.
        raise_file_limit(self.limits.files_needed)
        _keep_no_more_of_oversized_messages()
        scheme = "https" if self.tls else "http"
        shown = "localhost" if self.host in ("0.0.0.0", "::", "") else self.host
        shown = f"[{shown}]" if ":" in shown else shown
        log.info(
            "serving %r at %s://%s:%d%s (listening on %s port %d)",
            self.name,
            scheme,
            shown,
            self.port,
            self.base_path or "/",
            self.host,
            self.port,
        )
        await serve(self.create(), self.hypercorn_config(), shutdown_trigger=shutdown.wait)

    def run(self) -> None:
        """Serve until SIGINT or SIGTERM, then shut down cleanly."""

        async def main() -> None:
            shutdown = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, shutdown.set)
            await self.serve(shutdown)

        with asyncio.Runner(loop_factory=loop_factory()) as runner:
            runner.run(main())


def _abandon_stuck_peers(sock: socket.socket, deadline: float) -> None:
    """Let the kernel end a connection whose data has not left for a while (Linux).

    A client that stops reading (or vanishes) leaves the server's writes waiting forever: the
    app drops it after ``deadline`` seconds, but the connection, its buffers and its file
    descriptor stay until TCP gives up. ``TCP_USER_TIMEOUT`` on the listening socket (which
    accepted sockets inherit) makes TCP give up a little after the app did.
    """
    option = getattr(socket, "TCP_USER_TIMEOUT", None)
    if option is None or sock.type != socket.SOCK_STREAM:
        return
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.IPPROTO_TCP, option, int((deadline + USER_TIMEOUT_MARGIN) * 1000))


def _keep_no_more_of_oversized_messages() -> None:
    """Make Hypercorn keep nothing of a websocket message once it refused it as too big.

    Hypercorn (0.17, 0.18) answers a message over ``websocket_max_message_size`` with 1009
    but goes on appending the rest of it to its buffer while it waits for the client's close:
    twenty clients each sending 10 MB still cost 200 MB. Its buffer is swapped (once, for the
    process) for one that refuses a part that would go over the limit without keeping it.
    """
    from hypercorn.protocol import ws_stream

    buffer: Any = ws_stream.WebsocketBuffer
    if getattr(buffer, "keeps_no_more", False):
        return

    class CappedBuffer(buffer):  # type: ignore[misc]
        keeps_no_more = True

        def extend(self, event: Any) -> None:
            if self.length + len(event.data) > self.max_length:
                raise ws_stream.FrameTooLargeError()
            super().extend(event)

    ws_stream.WebsocketBuffer = CappedBuffer  # type: ignore[misc]


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop when installed (the ``uvloop`` extra), else asyncio's default."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop

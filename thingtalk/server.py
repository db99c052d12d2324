"""``WebThingServer``: things, the Quart app, mDNS, and Hypercorn, with the extension points."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import gc
import inspect
import logging
import signal
import socket
import ssl
import sys
import threading
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from quart import Blueprint, Quart

from . import hypercorn_patches
from .limits import Limits
from .loops import running_loop
from .protocols.app import ASGIMiddleware, create_app
from .protocols.asgi import ASGIApp, Receive, Scope, Send
from .protocols.extensions import (
    StarletteRoutes,
    as_middleware_factory,
    is_starlette_route,
)
from .protocols.limits import raise_file_limit
from .protocols.security import Security
from .protocols.state import Options, app_state
from .protocols.tokens import TokenVerifier
from .thing import Thing
from .things import MultipleThings, SingleThing, ThingsCollection

log = logging.getLogger(__name__)

DEFAULT_PORT = 80  # what serve() and run() listen on when no port is given (webthing-python's)
# How long stop(), called from another thread, waits for the server to have stopped.
STOP_SECONDS = 30.0

Handler = Callable[[], Awaitable[None] | None]
#: Seconds TCP keeps trying after the app gave up on a client that stopped reading.
USER_TIMEOUT_MARGIN = 30.0
ThingsArg = ThingsCollection | Thing | type[Thing] | Sequence[Thing | type[Thing]]


class ListenError(OSError):
    """The server cannot listen where it was asked to: a port in use, an address not ours."""

    @property
    def in_use(self) -> bool:
        """True when another program holds the port."""
        return self.errno == errno.EADDRINUSE

    def __str__(self) -> str:
        return str(self.strerror)


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

    For the WebThings gateway: ``strict_input_schemas`` serves each action's ``input`` in the
    WebThings TD with only JSON Schema keywords (the gateway compiles it with Ajv in strict
    mode, which refuses ``unit`` and other annotations; the W3C TD keeps them), and
    ``precise_event_times`` gives WebThings event timestamps microseconds, unique per thing
    (the gateway keys an event by ``data.id`` or else by name and timestamp, so two events
    of a second would otherwise merge). Both are off by default: the WebThings conformance
    tester wants ``unit`` in the input and whole-second timestamps.
    Security (see the README's security section): ``allowed_origins`` are the web origins,
    besides the server's own, whose pages may read and change things (``"*"`` only with
    tokens); ``tokens`` makes every request but reading the TDs and the page's files need
    ``Authorization: Bearer <token>`` (or ``?jwt=`` on websockets); ``verify_token(token)``
    (sync or async) accepts further tokens, e.g. JWTs; ``trusted_proxies`` are the addresses
    whose ``Forwarded``/``X-Forwarded-*`` headers say which host and scheme the client used.
    """

    def __init__(
        self,
        things: ThingsArg | asyncio.AbstractEventLoop,
        thing_cls: ThingsArg | None = None,
        *,
        port: int | None = None,
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
        allowed_origins: Iterable[str] = (),
        tokens: Iterable[str] = (),
        verify_token: TokenVerifier | None = None,
        trusted_proxies: Iterable[str] = (),
        discovery: bool = True,
        discovery_interfaces: Sequence[str] | None = None,
        publish_addresses: bool = True,
        context: str = "https://webthings.io/schemas",
        max_body_size: int = 64 * 1024,
        freeze_gc: bool = False,
        access_log: bool = False,
        strict_input_schemas: bool = False,
        precise_event_times: bool = False,
        ssl_options: Mapping[str, Any] | None = None,
        limits: Limits | None = None,
        lean: bool = True,
    ) -> None:
        if isinstance(things, asyncio.AbstractEventLoop):
            # The seed's `WebThingServer(loop, Light)`: the things live on the loop that
            # serves them, so the loop it built them on is not needed.
            if thing_cls is None:
                raise TypeError("WebThingServer(loop, things): the things are missing")
            things = thing_cls
        elif thing_cls is not None:
            raise TypeError("WebThingServer takes the things once: WebThingServer(things, ...)")
        self.things = as_collection(things, name)
        # Known when given, or once serve() listens; under another ASGI server, from the
        # first request (see create()): mDNS never advertises a port that is not served.
        self.port = DEFAULT_PORT if port is None else port
        self.port_known = port is not None
        self.host = host
        self.hostname = hostname
        self.base_path = "/" + base_path.strip("/") if base_path.strip("/") else ""
        if ssl_options is not None:  # webthing-python's (Tornado's) dict form
            certfile = certfile or ssl_options.get("certfile")
            keyfile = keyfile or ssl_options.get("keyfile")
        self.certfile, self.keyfile = certfile, keyfile
        self.tls = bool(certfile)
        self.additional_routes = list(additional_routes or ())
        for route in self.additional_routes:
            if not isinstance(route, Route | Blueprint) and not is_starlette_route(route):
                raise TypeError(
                    f"additional_routes takes thingtalk.Route (a Quart view), a Quart "
                    f"Blueprint, or a Starlette Route / WebSocketRoute / Mount; not {route!r}"
                )
        self.additional_middlewares = [
            as_middleware_factory(m) for m in additional_middlewares or ()
        ]
        self.additional_on_startup = list(additional_on_startup or ())
        self.additional_on_shutdown = list(additional_on_shutdown or ())
        self.disable_host_validation = disable_host_validation
        self.allowed_hosts = list(allowed_hosts)
        # Checked here, so a bad setting fails at construction with the reason.
        self.security = Security.of(
            allowed_origins=allowed_origins,
            tokens=tokens,
            verify_token=verify_token,
            trusted_proxies=trusted_proxies,
        )
        self.discovery = discovery
        self.discovery_interfaces = list(discovery_interfaces) if discovery_interfaces else None
        self.publish_addresses = publish_addresses
        self.freeze_gc = freeze_gc
        self.access_log = access_log
        self.limits = limits or Limits()
        self.options = Options(
            base_path=self.base_path,
            context=context,
            max_body_size=max_body_size,
            strict_input_schemas=strict_input_schemas,
            precise_event_times=precise_event_times,
            limits=self.limits,
            lean=lean,
        )
        self.app: Quart | None = None
        self.advertiser: Any = None
        self._discovery_task: asyncio.Task[None] | None = None
        self._serving_itself = False  # serve() runs Hypercorn (else another ASGI server does)
        self._serving: tuple[asyncio.AbstractEventLoop, asyncio.Event] | None = None
        self._stopped = threading.Event()
        self._interrupted = False

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
        middlewares: list[ASGIMiddleware] = []
        starlette_routes = [r for r in self.additional_routes if is_starlette_route(r)]
        if starlette_routes:
            # Innermost, so the Host check and CORS apply to them as to every route.
            middlewares.append(lambda app: StarletteRoutes(app, starlette_routes))
        app = create_app(
            self.things,
            self.options,
            allowed_hosts=None if self.disable_host_validation else self.host_names(),
            middlewares=[*middlewares, *self.additional_middlewares],
            security=self.security,
        )
        for route in self.additional_routes:
            if isinstance(route, Blueprint):
                app.register_blueprint(route)
            elif isinstance(route, Route):
                app.add_url_rule(route.rule, view_func=route.view, methods=list(route.methods))
        if self.discovery:
            inner: Any = app.asgi_app  # Quart types it with its own scope TypedDicts
            app.asgi_app = PortProbe(inner, self._port_seen)  # type: ignore[assignment, method-assign]

        @app.before_serving
        async def _startup() -> None:
            if not self._serving_itself:
                _show_library_logs()
            if self.discovery:
                if self.port_known:
                    # mDNS probing takes about two seconds: announce in the background
                    # rather than keep clients waiting for the first answer.
                    self._discovery_task = asyncio.create_task(self._start_discovery())
                else:
                    log.info(
                        "served by another ASGI server on a port not known yet: mDNS "
                        "advertising waits for the first request to show it (or pass port=)"
                    )
            for handler in self.additional_on_startup:
                await _call(handler)
            if self.freeze_gc:
                # What is alive now (modules, things, the app) lives as long as the server:
                # keep the cyclic GC from scanning it on every full collection (measured in
                # bench/: GET p99 69 -> 10 ms, CPU per GET -11 %). Off by default: it is
                # the whole process's GC, which a program embedding the server owns.
                gc.collect()
                gc.freeze()
            _return_freed_memory()

        @app.after_serving
        async def _shutdown() -> None:
            for handler in self.additional_on_shutdown:
                await _call(handler)
            await self._stop_discovery()

        self.app = app
        return app

    def _port_seen(self, port: int | None) -> None:
        """The first request under another ASGI server shows the port it serves on."""
        if self.port_known and port == self.port:
            return
        if port is None:
            log.warning(
                "cannot tell which port this server listens on (a Unix socket?): not "
                "advertising over mDNS; pass port= to advertise one"
            )
            return
        if self.port_known:
            log.warning(
                "served on port %d, not the configured %d: advertising %d", port, self.port, port
            )
        else:
            log.info("served on port %d: advertising it over mDNS", port)
        self.port, self.port_known = port, True
        previous = self._discovery_task

        async def readvertise() -> None:
            # Withdraw what was announced with the configured port, then announce this one.
            if previous is not None and not previous.done():
                previous.cancel()
                await asyncio.gather(previous, return_exceptions=True)
            if self.advertiser is not None:
                await self.advertiser.stop()
                self.advertiser = None
            await self._start_discovery()

        self._discovery_task = asyncio.get_running_loop().create_task(readvertise())

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

    def hypercorn_config(self, listening: socket.socket | None = None) -> Any:
        """The Hypercorn configuration ``serve`` uses (on ``listening``, when given)."""
        from hypercorn.config import Config

        config = Config()
        if listening is not None:
            config.bind = [f"fd://{listening.fileno()}"]
        else:
            host = f"[{self.host}]" if ":" in self.host else self.host
            config.bind = [f"{host}:{self.port}"]
        config.certfile, config.keyfile = self.certfile, self.keyfile
        config.graceful_timeout = 3.0  # websocket clients stay open; don't hold shutdown for them
        # Hypercorn's messages go through the program's logging (one format, no duplicates:
        # its own default handler would print each line a second time beside the root's).
        config.errorlog = logging.getLogger("hypercorn.error")
        config.accesslog = logging.getLogger("hypercorn.access") if self.access_log else None
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

    def listen(self) -> socket.socket:
        """Bind the listening socket, so that a port in use fails before anything starts.

        Raises :class:`ListenError` saying what is wrong. Port 0 takes a free port, which
        then becomes :attr:`port` (and what mDNS advertises).
        """
        v6 = ":" in self.host
        try:
            sock = socket.create_server(
                (self.host, self.port),
                family=socket.AF_INET6 if v6 else socket.AF_INET,
                dualstack_ipv6=v6 and self.host == "::" and socket.has_dualstack_ipv6(),
            )
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                message = f"port {self.port} is in use"
            else:
                reason = exc.strerror or str(exc)
                message = f"cannot listen on {self.host} port {self.port}: {reason}"
            raise ListenError(exc.errno, message) from None
        # Hypercorn sets this on the sockets it binds itself; accepted sockets inherit it.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.port = sock.getsockname()[1]
        return sock

    async def serve(self, shutdown: asyncio.Event | None = None) -> None:
        """Serve on Hypercorn until ``shutdown`` is set (:class:`ListenError` if it cannot)."""
        from hypercorn.asyncio import serve

        shutdown = shutdown or asyncio.Event()
        # Every websocket and stream the caps allow, and the reserve, need a descriptor each.
        raise_file_limit(self.limits.files_needed)
        hypercorn_patches.apply()
        self._serving_itself = True
        listening = self.listen()
        self.port_known = True
        config = self.hypercorn_config(listening)
        listening.detach()  # Hypercorn owns the descriptor from here on, and closes it
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
        app = self.create()

        async def stop_when_asked() -> None:
            await shutdown.wait()
            # Before Hypercorn waits for open connections to finish: websockets and event
            # streams end now, so the stop is quick and nothing is cancelled mid-send.
            app_state(app).stop_connections()

        await serve(app, config, shutdown_trigger=stop_when_asked)

    def run(self, log_level: str | int = "INFO") -> None:
        """Serve until SIGINT or SIGTERM, then shut down cleanly; the program's ``main``.

        Logging goes to stderr at ``log_level`` unless the program configured it already.
        A server that cannot listen logs why in one line and exits with status 2.
        """
        logging.basicConfig(level=log_level, format="%(levelname)s %(name)s: %(message)s")
        self._interrupted = False
        self._stopped.clear()

        async def main() -> None:
            shutdown = asyncio.Event()
            loop = asyncio.get_running_loop()
            self._serving = (loop, shutdown)
            signals = (signal.SIGINT, signal.SIGTERM)
            handle = threading.current_thread() is threading.main_thread()
            if handle:  # signal handlers can only be set from the main thread
                for sig in signals:
                    loop.add_signal_handler(sig, self._signalled, shutdown, sig)
            try:
                await self.serve(shutdown)
            finally:
                self._serving = None
                if handle:
                    for sig in signals:
                        loop.remove_signal_handler(sig)

        try:
            with asyncio.Runner(loop_factory=loop_factory()) as runner:
                runner.run(main())
        except ListenError as exc:
            log.error("%s%s", exc, "; choose another port" if exc.in_use else "")
            raise SystemExit(2) from None
        finally:
            self._stopped.set()

    def _signalled(self, shutdown: asyncio.Event, sig: signal.Signals) -> None:
        self._interrupted = self._interrupted or sig == signal.SIGINT
        shutdown.set()

    def start(self) -> None:
        """Serve until :meth:`stop`, SIGTERM or Ctrl-C (webthing-python's way; blocks).

        Shuts down cleanly either way; after Ctrl-C it then raises ``KeyboardInterrupt``,
        as webthing-python's ``start()`` did, so ``except KeyboardInterrupt: server.stop()``
        runs as written. Logging is set up as :meth:`run` does.
        """
        self.run()
        if self._interrupted:
            raise KeyboardInterrupt

    def stop(self) -> None:
        """Stop serving: from another thread, a callback, or after :meth:`start` returned.

        From another thread it waits (up to 30 s) until the server has stopped.
        """
        serving = self._serving
        if serving is None:
            return
        loop, shutdown = serving
        if running_loop() is loop:
            shutdown.set()
            return
        loop.call_soon_threadsafe(shutdown.set)
        if not self._stopped.wait(STOP_SECONDS):
            log.warning("the server did not stop within %s s", STOP_SECONDS)


class PortProbe:
    """ASGI: hands the port of the first request's ``server`` to ``seen``, once."""

    def __init__(self, app: ASGIApp, seen: Callable[[int | None], None]) -> None:
        self.app = app
        self.seen: Callable[[int | None], None] | None = seen

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        seen = self.seen
        if seen is not None and scope["type"] in ("http", "websocket"):
            self.seen = None
            server = scope.get("server")
            port = server[1] if server and isinstance(server[1], int) else None
            seen(port)
        await self.app(scope, receive, send)


def _show_library_logs() -> None:
    """Under another ASGI server, make the library's INFO lines visible.

    uvicorn and Hypercorn configure their own loggers only, so without this the library's
    lines (mDNS, start-up) would reach no handler. A program that configured logging
    (a root handler, or one on "thingtalk") keeps its own choice.
    """
    library = logging.getLogger("thingtalk")
    if logging.getLogger().handlers or library.handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    library.addHandler(handler)
    if library.level == logging.NOTSET:
        library.setLevel(logging.INFO)


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


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop when installed (the ``uvloop`` extra), else asyncio's default."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def _return_freed_memory() -> None:
    """Hand the memory start-up freed back to the system.

    Imports and compiles (Quart's routes, the validators) leave freed blocks in glibc's heap
    that it keeps for reuse; the running server never needs that much again. Returning them
    takes about 1 MiB off the idle RSS (measured in bench/). Nothing else changes: other C
    libraries (musl, macOS, Windows) have no ``malloc_trim`` and keep theirs.
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    with contextlib.suppress(AttributeError, OSError):
        ctypes.CDLL(None).malloc_trim(0)

"""ASGI middleware in front of the Quart app: every request passes the gates here first.

In order: the request target (absolute-form, trailing slashes), the Host (400 malformed,
403 not this machine), the Origin (403 for a web page of another origin that is not
allow-listed), CORS for allow-listed origins and preflights, the bearer token (401), and the
body's media type (415 for a body that is not JSON). The policy is described in
:mod:`.security`. Done at the ASGI level, not in Quart hooks, because it runs on every request
(websockets and routes added by users included) and costs far less here than Quart's
per-request machinery.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from ..errors import BadRequest, Forbidden, ThingtalkError, Unauthorized, UnsupportedMediaType
from .forwarded import read_forwarded
from .hosts import Authority, HostCheck, MalformedHost, parse_authority
from .origins import WEB_SCHEME, origin_of, parse_origin
from .security import Security
from .tokens import bearer, query_token
from .wire import error_bytes

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
#: (method, path, websocket) -> may a client without a token have it?
PublicCheck = Callable[[str, str, bool], bool]

#: Where the front door leaves ``(http origin, websocket origin)`` as the client addressed
#: the server (validated), for the Thing Descriptions' absolute URLs.
ORIGINS_KEY = "thingtalk.origins"
#: The path as the client sent it, before its trailing slash was dropped (the page's
#: relative links resolve against it).
SENT_PATH_KEY = "thingtalk.sent_path"
METHODS = b"GET, HEAD, PUT, POST, DELETE, OPTIONS"
PREFLIGHT_HEADERS: list[tuple[bytes, bytes]] = [
    (b"access-control-allow-methods", METHODS),
    (b"access-control-allow-headers", b"Authorization, Content-Type, Accept, Last-Event-ID"),
    (b"access-control-max-age", b"600"),
]
EXPOSE_HEADERS = (b"access-control-expose-headers", b"Location, WWW-Authenticate")
VARY_ORIGIN = (b"vary", b"Origin")
# How long a refusal or a 413 answer waits for the client to finish sending its body.
DRAIN_SECONDS = 2.0
DRAIN_BYTES = 1 << 20
BODYLESS_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_REMEMBERED_HOSTS = 256


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def is_json(content_type: str) -> bool:
    """True for ``application/json`` and ``application/<anything>+json`` (parameters aside).

    None of these is a type a cross-site form or a "simple" fetch may send, so a browser has
    to ask first (a CORS preflight), which a page of another origin does not get past.
    """
    essence = content_type.split(";", 1)[0].strip().lower()
    return essence == "application/json" or (
        essence.startswith("application/") and essence.endswith("+json")
    )


def _has_body(scope: Scope) -> bool:
    length = _header(scope, b"content-length")
    if length is not None and length.strip() not in ("", "0"):
        return True
    return _header(scope, b"transfer-encoding") is not None


class FrontDoor:
    """Every request passes here first."""

    def __init__(
        self,
        app: ASGIApp,
        host_check: HostCheck | None,
        security: Security | None = None,
        public: PublicCheck | None = None,
    ) -> None:
        security = security or Security()
        self.app = app
        self.host_check = host_check
        self.policy = security.origin_policy()
        self.tokens = security.token_check()
        self.proxies = security.proxies()
        self.public = public or (lambda method, path, websocket: False)
        # Host values already parsed and accepted: the hot path skips both.
        self._hosts: dict[bytes, Authority] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        scope = dict(scope)
        websocket = scope["type"] == "websocket"
        try:
            target = _absolute_form(scope)
            scheme, authority = self._addressed(scope, target)
        except MalformedHost as exc:
            await _refuse(scope, receive, send, BadRequest(f"malformed Host: {exc}"))
            return
        except Forbidden as refusal:
            await _refuse(scope, receive, send, refusal)
            return
        path: str = scope["path"]
        if len(path) > 1 and path.endswith("/"):
            # Trailing slashes are optional on every route.
            scope[SENT_PATH_KEY] = path
            scope["path"] = path.rstrip("/") or "/"
            scope["raw_path"] = scope["path"].encode()
        web = WEB_SCHEME[scheme]
        netloc = authority.netloc()
        scope[ORIGINS_KEY] = (
            f"{web}://{netloc}",
            f"{'wss' if web == 'https' else 'ws'}://{netloc}",
        )

        cors: bytes | None = None
        origin_text = _header(scope, b"origin")
        if origin_text is not None:
            origin = parse_origin(origin_text)
            if origin is None or origin != origin_of(scheme, authority):
                if not self.policy.allows(origin):
                    await _refuse(scope, receive, send, _foreign(origin_text))
                    return
                cors = b"*" if self.policy.any else origin_text.encode("latin-1")

        method = "GET" if websocket else scope["method"]
        if method == "OPTIONS":
            headers = [(b"allow", METHODS)]
            if cors is not None:
                headers += [(b"access-control-allow-origin", cors), *PREFLIGHT_HEADERS]
            if self.policy.lists_any:
                headers.append(VARY_ORIGIN)
            await send({"type": "http.response.start", "status": 204, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return

        if self.tokens.enabled:
            token = bearer(scope["headers"])
            if token is None and websocket:
                token = query_token(scope.get("query_string", b""))
            if not await self.tokens.accepts(token) and not self.public(
                method, scope["path"], websocket
            ):
                challenge = b'Bearer realm="thingtalk"'
                if token is not None:
                    challenge += b', error="invalid_token"'
                await _refuse(
                    scope,
                    receive,
                    send,
                    _unauthorized(token, websocket),
                    cors,
                    [(b"www-authenticate", challenge)],
                )
                return

        if not websocket and method not in BODYLESS_METHODS:
            content_type = _header(scope, b"content-type")
            if (content_type is None and _has_body(scope)) or (
                content_type is not None and not is_json(content_type)
            ):
                wrong_type = UnsupportedMediaType(
                    f"the body must be JSON, sent with 'Content-Type: application/json' "
                    f"(got {(content_type or 'no Content-Type')[:100]})"
                )
                await _refuse(scope, receive, send, wrong_type, cors)
                return

        if websocket:
            await self.app(scope, receive, send)
            return
        if cors is not None or self.policy.lists_any:
            send = _with_cors(send, cors, vary=self.policy.lists_any)
        if method in BODYLESS_METHODS:
            await self.app(scope, receive, send)
            return
        patient_receive, patient_send = _drain_before_413(receive, send)
        await self.app(scope, patient_receive, patient_send)

    def _addressed(self, scope: Scope, target: Authority | None) -> tuple[str, Authority]:
        """The scheme and authority the client addressed, checked against the Host check."""
        scheme: str = scope.get("scheme") or ("ws" if scope["type"] == "websocket" else "http")
        raw: bytes | None = None  # a Host value to remember once accepted
        authority = target  # RFC 9112 3.2.2: an absolute-form target's authority wins
        if authority is None:
            values = [bytes(v) for k, v in scope["headers"] if k == b"host"]
            if len(values) != 1:
                raise MalformedHost("the request needs exactly one Host header")
            authority = self._hosts.get(values[0])
            if authority is None:
                raw = values[0]
                authority = parse_authority(raw.decode("latin-1"))
        checked = target is None and raw is None  # a remembered Host
        if self.proxies.trusts(scope.get("client")):
            forwarded = read_forwarded(scope["headers"])
            if forwarded.host is not None:
                authority, raw, checked = parse_authority(forwarded.host), None, False
            if forwarded.proto in ("http", "https"):
                secure = forwarded.proto == "https"
                if scope["type"] == "websocket":
                    scheme = "wss" if secure else "ws"
                else:
                    scheme = forwarded.proto
        if self.host_check is not None and not checked:
            if not self.host_check.allows(authority):
                raise Forbidden(
                    f"host {str(authority)!r} is not allowed; "
                    "reach the server by its own name or address"
                )
            if raw is not None and len(self._hosts) < MAX_REMEMBERED_HOSTS:
                self._hosts[raw] = authority
        return scheme, authority


def _absolute_form(scope: Scope) -> Authority | None:
    """For an absolute-form target (``GET http://host/path``), the target's authority, with
    the scope's path made the plain path; None for the usual origin-form."""
    path: str = scope["path"]
    if path.startswith("/"):
        return None
    scheme, sep, rest = path.partition("://")
    if not sep or scheme.lower() not in WEB_SCHEME:
        raise MalformedHost(f"unsupported request target {path[:100]!r}")
    authority_text, slash, tail = rest.partition("/")
    if "@" in authority_text:
        raise MalformedHost("a request target with userinfo")
    authority = parse_authority(authority_text)
    scope["path"] = "/" + tail if slash else "/"
    scope["raw_path"] = scope["path"].encode()
    return authority


def _foreign(origin: str) -> Forbidden:
    return Forbidden(
        f"a web page at {origin[:200]!r} may not use these things; only the server's own "
        "page and the origins in allowed_origins may"
    )


def _unauthorized(token: str | None, websocket: bool) -> Unauthorized:
    where = "'Authorization: Bearer <token>'" + (" or ?jwt=<token>" if websocket else "")
    if token is None:
        return Unauthorized(f"this server needs a bearer token: send {where}")
    return Unauthorized("the bearer token is not accepted")


def _with_cors(send: Send, origin: bytes | None, *, vary: bool) -> Send:
    added: list[tuple[bytes, bytes]] = []
    if origin is not None:
        added += [(b"access-control-allow-origin", origin), EXPOSE_HEADERS]
    if vary:
        added.append(VARY_ORIGIN)

    async def send_with_cors(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = dict(message)
            message["headers"] = [*message.get("headers", ()), *added]
        await send(message)

    return send_with_cors


def _drain_before_413(receive: Receive, send: Send) -> tuple[Receive, Send]:
    """Let a 413 answer end only once the client has sent its whole body (or a timeout).

    The server closes the connection after a response to an unread body; closing with
    the client's data still arriving resets it, and a client still sending never reads
    the 413. Quart keeps reading (and discarding) the rest of the body meanwhile.
    """
    body_done = asyncio.Event()
    status = 0

    async def watched_receive() -> Message:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            body_done.set()
        return message

    async def patient_send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif status == 413 and not message.get("more_body", False):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(body_done.wait(), DRAIN_SECONDS)
        await send(message)

    return watched_receive, patient_send


async def _discard_body(receive: Receive) -> None:
    """Read (and drop) what the client sends, so it reads the refusal instead of a reset."""
    received = 0

    async def drain() -> None:
        nonlocal received
        while received <= DRAIN_BYTES:
            message = await receive()
            if message["type"] != "http.request":
                return
            received += len(message.get("body", b""))
            if not message.get("more_body", False):
                return

    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(drain(), DRAIN_SECONDS)


async def _refuse(
    scope: Scope,
    receive: Receive,
    send: Send,
    error: ThingtalkError,
    cors: bytes | None = None,
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    """Answer ``error`` before the app sees the request (a websocket: refuse the handshake)."""
    body, content_type = error_bytes(error, scope["path"])
    headers = [
        (b"content-type", content_type.encode()),
        (b"content-length", str(len(body)).encode()),
        *(extra or ()),
    ]
    if cors is not None:
        headers += [(b"access-control-allow-origin", cors), EXPOSE_HEADERS]
    if scope["type"] == "websocket":
        await receive()  # websocket.connect
        if "websocket.http.response" in scope.get("extensions", {}):
            start = {"type": "websocket.http.response.start", "status": int(error.status)}
            await send({**start, "headers": headers})
            await send({"type": "websocket.http.response.body", "body": body})
        else:
            # 1008: policy violation (the server cannot send an HTTP answer instead).
            await send({"type": "websocket.close", "code": 1008})
        return
    if scope.get("method") not in BODYLESS_METHODS:
        await _discard_body(receive)
    await send({"type": "http.response.start", "status": int(error.status), "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})

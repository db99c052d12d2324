"""Which web pages may use the API: the server's own origin, and the origins allow-listed.

A browser tells the server which page a request comes from in the ``Origin`` header (on every
cross-origin request, on every same-origin request but a GET or HEAD, and on every websocket
handshake). A request from the server's own page carries the origin the browser addressed,
which is what :func:`addressed_origin` rebuilds from the (validated) Host and the scheme.
Clients that are not browsers (the WebThings gateway, node-wot, curl) send no ``Origin``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .hosts import Authority, MalformedHost, parse_authority

ANY = "*"
DEFAULT_PORTS = {"http": 80, "https": 443}
# A websocket handshake's Origin names the page's http(s) origin.
WEB_SCHEME = {"http": "http", "https": "https", "ws": "http", "wss": "https"}


@dataclass(frozen=True, slots=True)
class Origin:
    """A web origin: scheme, host and port (the default port filled in)."""

    scheme: str
    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        if DEFAULT_PORTS.get(self.scheme) == self.port:
            return f"{self.scheme}://{host}"
        return f"{self.scheme}://{host}:{self.port}"


def origin_of(scheme: str, authority: Authority) -> Origin:
    """The origin of a URL with ``scheme`` (http, https, ws or wss) and ``authority``."""
    web = WEB_SCHEME[scheme]
    return Origin(web, authority.host, authority.port or DEFAULT_PORTS[web])


def parse_origin(text: str) -> Origin | None:
    """An ``Origin`` header as an :class:`Origin`; None for ``null`` and anything malformed
    (an opaque origin: a sandboxed frame, a ``file:`` page, a redirect across sites)."""
    scheme, sep, rest = text.strip().partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in DEFAULT_PORTS or not rest or "/" in rest or "@" in rest:
        return None
    try:
        return origin_of(scheme, parse_authority(rest))
    except MalformedHost:
        return None


def parse_allowed(entries: Iterable[str]) -> tuple[frozenset[Origin], bool]:
    """Configured origins as ``(origins, any)``; raises ``ValueError`` naming a bad entry."""
    origins: set[Origin] = set()
    anything = False
    for entry in entries:
        if entry.strip() == ANY:
            anything = True
            continue
        origin = parse_origin(entry)
        if origin is None:
            raise ValueError(
                f"allowed origin {entry!r} is not an origin like 'http://gateway.local:8080' "
                "(a scheme, a host and an optional port; no path)"
            )
        origins.add(origin)
    return frozenset(origins), anything


class OriginPolicy:
    """The origins, besides the server's own, whose pages may read and change things."""

    def __init__(self, allowed: Iterable[str] = ()) -> None:
        self.origins, self.any = parse_allowed(allowed)

    @property
    def lists_any(self) -> bool:
        """True when some origin other than the server's own is let in."""
        return self.any or bool(self.origins)

    def allows(self, origin: Origin | None) -> bool:
        """True if a page at ``origin`` (None: an opaque origin) is allow-listed."""
        return self.any or (origin is not None and origin in self.origins)

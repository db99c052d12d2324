"""Bearer tokens: where a request carries one, and whether it is one of ours.

HTTP requests carry ``Authorization: Bearer <token>`` (RFC 6750). Websocket clients may put it
in the ``jwt`` query parameter instead, because a browser's ``WebSocket`` cannot set headers and
that is where the WebThings gateway's thing-url-adapter sends it. Tokens are compared as SHA-256
digests with :func:`hmac.compare_digest`, against every configured token each time, so the time
an answer takes says nothing about how much of a guess was right. No token is ever logged.
"""

from __future__ import annotations

import hashlib
import hmac
import inspect
import logging
from collections.abc import Awaitable, Callable, Iterable
from urllib.parse import parse_qs

log = logging.getLogger(__name__)

#: A custom check: the presented token -> accept it? (sync or async)
TokenVerifier = Callable[[str], "bool | Awaitable[bool]"]


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).digest()


def bearer(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (the scheme in any case)."""
    for name, value in headers:
        if name == b"authorization":
            scheme, _, token = bytes(value).decode("latin-1").strip().partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
            return None
    return None


def query_token(query_string: bytes) -> str | None:
    """The ``jwt`` query parameter (what the WebThings gateway sends on websockets)."""
    if b"jwt=" not in query_string:
        return None
    values = parse_qs(query_string.decode("latin-1")).get("jwt")
    return values[0] if values else None


class TokenCheck:
    """Accepts the configured tokens, and whatever ``verify`` accepts (a JWT check, say)."""

    def __init__(self, tokens: Iterable[str] = (), verify: TokenVerifier | None = None) -> None:
        listed = list(tokens)
        if any(not isinstance(t, str) or not t.strip() for t in listed):
            raise ValueError("a token must be a non-empty string")
        self._digests = [_digest(t) for t in listed]
        self.verify = verify

    @property
    def enabled(self) -> bool:
        """True when requests need a token."""
        return bool(self._digests) or self.verify is not None

    async def accepts(self, token: str | None) -> bool:
        """True if ``token`` is one of the configured tokens or ``verify`` accepts it."""
        if not token:
            return False
        presented = _digest(token)
        matched = False
        for digest in self._digests:
            # No early exit: every comparison is made whichever token matches.
            matched |= hmac.compare_digest(presented, digest)
        if matched or self.verify is None:
            return matched
        try:
            result = self.verify(token)
            if inspect.isawaitable(result):
                result = await result
        except Exception as exc:  # a broken verifier refuses; the token stays out of the log
            log.warning("verify_token raised %s; the request is refused", type(exc).__name__)
            return False
        return result is True

"""The security settings of an app, checked once, and the routes anyone may read.

Three independent gates, all in the front door (:mod:`.asgi`), in this order:

1. Host: the request must name this machine (DNS rebinding), see :mod:`.hosts`.
2. Origin: a web page of another origin may not read or change anything unless its origin is
   allow-listed; the server's own page and clients that are not browsers pass. See
   :mod:`.origins`.
3. Token: when tokens (or a ``verify_token`` hook) are set, every request needs a bearer token,
   except reading the :data:`PUBLIC_ENDPOINTS`. See :mod:`.tokens`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from .forwarded import TrustedProxies
from .origins import OriginPolicy
from .tokens import TokenCheck, TokenVerifier

#: What a client without a token may GET: the Thing Descriptions (so a client can learn
#: which security scheme to use; the page is another representation of a thing's URL) and
#: the page's static files. Everything else, any route added later included, needs a token.
PUBLIC_ENDPOINTS = frozenset(
    {
        "webthings.thing",  # a thing's URL: its TD (WebThings or W3C) or its page
        "webthings.things",  # the list of TDs (several things), or the index page
        "w3c.well_known",  # /.well-known/wot: the TD, or the directory's TD
        "w3c.things",  # the directory's list of TDs
        "page.asset",  # the page's script, style sheet and icon
    }
)


@dataclass(frozen=True)
class Security:
    """Who may reach the things: allow-listed origins, bearer tokens, trusted proxies."""

    allowed_origins: tuple[str, ...] = ()
    tokens: tuple[str, ...] = field(default=(), repr=False)
    verify_token: TokenVerifier | None = field(default=None, repr=False)
    trusted_proxies: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        *,
        allowed_origins: Iterable[str] = (),
        tokens: Iterable[str] = (),
        verify_token: TokenVerifier | None = None,
        trusted_proxies: Iterable[str] = (),
    ) -> Security:
        """Settings from any iterables; raises ``ValueError`` saying what is wrong."""
        return cls(tuple(allowed_origins), tuple(tokens), verify_token, tuple(trusted_proxies))

    def __post_init__(self) -> None:
        policy = self.origin_policy()
        self.token_check()
        self.proxies()
        if policy.any and not (self.tokens or self.verify_token):
            raise ValueError(
                "allowed_origins '*' lets any web page in, so it needs tokens (or verify_token): "
                "set tokens, or list the origins that may use the things"
            )

    @property
    def needs_token(self) -> bool:
        """True when requests need a bearer token."""
        return bool(self.tokens) or self.verify_token is not None

    def origin_policy(self) -> OriginPolicy:
        """The allow-list as an :class:`OriginPolicy`."""
        return OriginPolicy(self.allowed_origins)

    def token_check(self) -> TokenCheck:
        """The tokens as a :class:`TokenCheck`."""
        return TokenCheck(self.tokens, self.verify_token)

    def proxies(self) -> TrustedProxies:
        """The trusted proxies."""
        return TrustedProxies(self.trusted_proxies)

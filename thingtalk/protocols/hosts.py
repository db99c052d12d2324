"""The Host header: parsed as an RFC 3986 authority and checked against this machine's names.

A browser page served from an attacker's domain can rebind that domain to the server's
address (DNS rebinding); its requests then still carry the attacker's name in Host, which is
what :class:`HostCheck` refuses. The parser is deliberately narrow: a DNS name or an IP
literal, an optional numeric port, nothing else, so that no trick (``localhost:80.evil.com``,
``[::1].evil.com``, ``localhost:@evil.com``, ``localhost..``) can pass for one of our names
or be reflected into a Thing Description.
"""

from __future__ import annotations

import ipaddress
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..addresses import host_names

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "127.0.0.1", "::1"})
# One DNS label: letters, digits, '-' and '_' (seen in real host names), 1-63 characters.
_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")
_PORT = re.compile(r"^[0-9]{1,5}$")
_IPV4_LIKE = re.compile(r"^[0-9.]+$")
MAX_NAME = 253


class MalformedHost(ValueError):
    """The text is not a host and optional port (RFC 3986 authority without userinfo)."""


@dataclass(frozen=True, slots=True)
class Authority:
    """A host and an optional port, in canonical form: lower case, no trailing dot, IPv6
    compressed and without brackets."""

    host: str
    port: int | None = None

    @property
    def ipv6(self) -> bool:
        """True for an IPv6 literal (written in brackets in a URL)."""
        return ":" in self.host

    def netloc(self, default_port: int | None = None) -> str:
        """``host[:port]`` as a URL spells it (the port left out when it is the default)."""
        host = f"[{self.host}]" if self.ipv6 else self.host
        if self.port is None or self.port == default_port:
            return host
        return f"{host}:{self.port}"

    def __str__(self) -> str:
        return self.netloc()


def _ip_literal(text: str) -> str:
    try:
        address = ipaddress.IPv6Address(text)  # no zone: "%" is refused here
    except ValueError:
        raise MalformedHost(f"{text!r} is not an IPv6 address") from None
    return str(address)


def _name(text: str) -> str:
    name = text[:-1] if text.endswith(".") else text  # one trailing dot: the absolute DNS name
    if not name or len(name) > MAX_NAME:
        raise MalformedHost("the host name is empty or too long")
    if _IPV4_LIKE.match(name):
        try:
            address = ipaddress.IPv4Address(name)
        except ValueError:
            raise MalformedHost(f"{text!r} is not an IPv4 address") from None
        if name != text:
            raise MalformedHost(f"{text!r}: an IPv4 address has no trailing dot")
        return str(address)
    if not all(_LABEL.match(label) for label in name.split(".")):
        raise MalformedHost(f"{text!r} is not a host name")
    return name


def parse_authority(text: str) -> Authority:
    """Parse a Host header value (or a URL's authority) into an :class:`Authority`.

    Accepts ``name``, ``name:port``, ``1.2.3.4[:port]`` and ``[v6][:port]``; names are
    compared case-insensitively. Raises :class:`MalformedHost` for anything else: userinfo,
    an empty or non-numeric port, a bare IPv6 address, empty labels, stray characters.
    """
    text = text.strip().lower()
    port_text: str | None = None
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise MalformedHost("an IPv6 literal without its closing ']'")
        host = _ip_literal(text[1:end])
        rest = text[end + 1 :]
        if rest:
            if not rest.startswith(":"):
                raise MalformedHost(f"unexpected {rest!r} after the IPv6 literal")
            port_text = rest[1:]
    else:
        name, colon, port_part = text.partition(":")
        if colon:
            port_text = port_part
        host = _name(name)
    port = None
    if port_text is not None:
        if not _PORT.match(port_text) or not 0 < int(port_text) <= 65535:
            raise MalformedHost("the port must be a number from 1 to 65535")
        port = int(port_text)
    return Authority(host, port)


def _is_loopback_address(name: str) -> bool:
    # An address, not a prefix match: "127.evil.com" is a name an attacker can rebind.
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def canonical_name(name: str) -> str:
    """A configured name (``Pi.Local``, ``[::1]``, ``host:8080``) as :class:`HostCheck`
    compares it; raises :class:`MalformedHost` for one that is not a host."""
    text = name.strip()
    if ":" in text and not text.startswith("["):
        try:  # a bare IPv6 address, as interface listings write them
            return str(ipaddress.IPv6Address(text))
        except ValueError:
            pass
    return parse_authority(text).host


class HostCheck:
    """Accepts a request only if its Host names this machine.

    The machine's own names come from ``provider`` and are read again (at most every
    ``refresh_interval`` seconds) when an unknown name arrives, so an address that DHCP or a
    late Wi-Fi gave the machine is accepted without a restart. Ports are not compared: a
    port forward may put the server behind another port, and the name is what a rebinding
    attacker controls.
    """

    def __init__(
        self,
        extra_names: Iterable[str] = (),
        *,
        provider: Callable[[], Iterable[str]] = host_names,
        refresh_interval: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.extra = frozenset(canonical_name(n) for n in extra_names) | LOOPBACK_NAMES
        self.provider = provider
        self.refresh_interval = refresh_interval
        self.clock = clock
        self._refreshed = -float("inf")
        self.names = self.extra
        self.refresh()

    def refresh(self) -> None:
        """Read the machine's names again."""
        names = set(self.extra)
        for name in self.provider():
            try:
                names.add(canonical_name(name))
            except MalformedHost:
                continue  # an interface name ifaddr reports oddly is no name of ours
        self.names = frozenset(names)
        self._refreshed = self.clock()

    def _known(self, host: str) -> bool:
        return host in self.names or _is_loopback_address(host)

    def allows(self, authority: Authority) -> bool:
        """True if ``authority`` (a parsed Host) is one of this machine's names."""
        known = self._known(authority.host)
        if not known and self.clock() - self._refreshed >= self.refresh_interval:
            self.refresh()
            known = self._known(authority.host)
        return known

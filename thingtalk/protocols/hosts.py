"""The Host-header check that keeps DNS-rebinding pages away from the things."""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable, Iterable

from ..addresses import host_names

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "127.0.0.1", "::1"})


def split_host(host: str) -> str:
    """The name in a Host header: ``[::1]:80`` -> ``::1``, ``Pi.local:8888`` -> ``pi.local``."""
    host = host.strip().lower()
    if host.startswith("["):
        end = host.find("]")
        return host[1:end] if end > 0 else host
    if host.count(":") == 1:  # name:port; more colons means a bare IPv6 address
        host = host.split(":", 1)[0]
    return host.rstrip(".")


def _is_loopback_address(name: str) -> bool:
    # An address, not a prefix match: "127.evil.com" is a name an attacker can rebind.
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class HostCheck:
    """Accepts a request only if its Host names this machine.

    A browser page served from an attacker's domain can rebind that domain to the
    server's address; its requests then still carry the attacker's Host, which is what
    this refuses. The machine's own names come from ``provider`` and are read again (at most
    every ``refresh_interval`` seconds) when an unknown name arrives, so an address that
    DHCP or a late Wi-Fi gave the machine is accepted without a restart.
    """

    def __init__(
        self,
        extra_names: Iterable[str] = (),
        *,
        provider: Callable[[], Iterable[str]] = host_names,
        refresh_interval: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.extra = frozenset(split_host(n) for n in extra_names) | LOOPBACK_NAMES
        self.provider = provider
        self.refresh_interval = refresh_interval
        self.clock = clock
        self._refreshed = -float("inf")
        self.names = self.extra
        self._allowed: set[str] = set()  # raw Host values already accepted: the hot path
        self.refresh()

    def refresh(self) -> None:
        """Read the machine's names again."""
        self.names = self.extra | frozenset(split_host(n) for n in self.provider())
        self._refreshed = self.clock()

    def _known(self, name: str) -> bool:
        return name in self.names or _is_loopback_address(name)

    def allows(self, host: str | None) -> bool:
        """True if ``host`` (a Host header value, port optional) is one of ours."""
        if host is None:
            return False
        if host in self._allowed:
            return True
        name = split_host(host)
        known = self._known(name)
        if not known and self.clock() - self._refreshed >= self.refresh_interval:
            self.refresh()
            known = self._known(name)
        if known and len(self._allowed) < 256:
            self._allowed.add(host)
        return known

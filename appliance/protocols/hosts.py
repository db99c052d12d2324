"""The Host-header check that keeps DNS-rebinding pages away from the things."""

from __future__ import annotations

from collections.abc import Iterable

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


class HostCheck:
    """Accepts a request only if its Host names this machine.

    A browser page served from an attacker's domain can rebind that domain to the
    appliance's address; its requests then still carry the attacker's Host, which is what
    this refuses.
    """

    def __init__(self, names: Iterable[str]) -> None:
        self.names = frozenset(split_host(n) for n in names) | LOOPBACK_NAMES
        self._seen: dict[str, bool] = {}

    def allows(self, host: str | None) -> bool:
        """True if ``host`` (a Host header value, port optional) is one of ours."""
        if host is None:
            return False
        verdict = self._seen.get(host)
        if verdict is None:
            verdict = split_host(host) in self.names or split_host(host).startswith("127.")
            if len(self._seen) < 256:  # a small memo: the hot path sees a handful of values
                self._seen[host] = verdict
        return verdict


def local_names() -> set[str]:
    """The names and addresses this machine answers to: its hostname, ``<hostname>.local``
    and every interface address (IPv6 without a scope)."""
    import socket

    import ifaddr

    hostname = socket.gethostname().lower()
    names = {
        hostname,
        f"{hostname}.local",
        hostname.split(".")[0],
        f"{hostname.split('.')[0]}.local",
    }
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            names.add(ip.ip[0] if isinstance(ip.ip, tuple) else ip.ip)
    return names

"""Behind a reverse proxy: the host and scheme the client addressed, from trusted proxies only.

A proxy that terminates TLS or serves the things under its own name tells the server what the
client asked for in ``Forwarded: host=...;proto=...`` (RFC 7239) or ``X-Forwarded-Host`` and
``X-Forwarded-Proto``. Anyone can send those headers, so they count only when the connection
comes from an address listed as a trusted proxy (none by default), and only the value the
nearest proxy added (the last one) is read: what a client sent ahead of it is not trusted.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class Forwarded:
    """What a trusted proxy says the client addressed (either may be missing)."""

    host: str | None
    proto: str | None


def _last(values: Sequence[str]) -> str:
    return values[-1].split(",")[-1].strip()


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def read_forwarded(headers: Iterable[tuple[bytes, bytes]]) -> Forwarded:
    """The host and proto of the last ``Forwarded`` element, else of the X-Forwarded headers."""
    forwarded: list[str] = []
    x_host: list[str] = []
    x_proto: list[str] = []
    for name, value in headers:
        if name == b"forwarded":
            forwarded.append(bytes(value).decode("latin-1"))
        elif name == b"x-forwarded-host":
            x_host.append(bytes(value).decode("latin-1"))
        elif name == b"x-forwarded-proto":
            x_proto.append(bytes(value).decode("latin-1"))
    if forwarded:
        pairs: dict[str, str] = {}
        for pair in _last(forwarded).split(";"):
            key, _, text = pair.partition("=")
            pairs[key.strip().lower()] = _unquote(text)
        return Forwarded(pairs.get("host") or None, (pairs.get("proto") or "").lower() or None)
    return Forwarded(
        _last(x_host) or None if x_host else None,
        _last(x_proto).lower() or None if x_proto else None,
    )


class TrustedProxies:
    """The addresses (or networks) whose forwarding headers are believed."""

    def __init__(self, entries: Iterable[str] = ()) -> None:
        networks: list[IPNetwork] = []
        for entry in entries:
            try:
                networks.append(ipaddress.ip_network(entry.strip(), strict=False))
            except ValueError:
                raise ValueError(
                    f"trusted proxy {entry!r} is not an IP address or network "
                    "(like '192.168.1.2' or '10.0.0.0/24')"
                ) from None
        self.networks = tuple(networks)

    def __bool__(self) -> bool:
        return bool(self.networks)

    def trusts(self, client: Sequence[object] | None) -> bool:
        """True if the connection's peer (an ASGI ``client`` pair) is a trusted proxy."""
        if not self.networks or not client:
            return False
        try:
            address = ipaddress.ip_address(str(client[0]).split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in network for network in self.networks)

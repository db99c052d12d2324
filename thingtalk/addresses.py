"""The host's addresses: what a choice of interfaces means, and the names the host answers to.

Only stdlib and ifaddr, so the Host-header check can use it without pulling in zeroconf. Every
function reads the interfaces when called (never at import) and accepts `adapters` (ifaddr's
`Adapter` shape: `name`, `nice_name`, `index`, `ips[].ip`) so tests can feed their own.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable, Sequence
from typing import Any

import ifaddr

__all__ = ["host_names", "interface_addresses", "is_address", "multicast_interfaces"]


def _bare(address: str) -> str:
    """An address without an IPv6 zone (`fe80::1%eth0` -> `fe80::1`)."""
    return address.split("%", 1)[0]


def _adapter_ips(adapter: Any) -> list[tuple[str, int]]:
    """The (address, version) pairs of an ifaddr adapter; ifaddr gives IPv6 as a tuple."""
    out: list[tuple[str, int]] = []
    for ip in adapter.ips:
        raw = ip.ip[0] if isinstance(ip.ip, tuple) else ip.ip
        out.append((_bare(str(raw)), 6 if isinstance(ip.ip, tuple) else 4))
    return out


def is_address(text: str) -> bool:
    """Whether text is an IPv4 or IPv6 address (an IPv6 zone allowed)."""
    try:
        ipaddress.ip_address(_bare(text))
    except ValueError:
        return False
    return True


def _selected(
    interfaces: Sequence[str] | None, adapters: Iterable[Any]
) -> list[tuple[str, int, Any]]:
    """(address, version, adapter) for the chosen interfaces, in adapter order, deduplicated.

    None or empty means every non-loopback interface. Otherwise each entry is an address (kept
    even if no adapter holds it, so an explicit choice is honoured) or an interface name.
    """
    adapters = list(adapters)
    chosen: list[tuple[str, int, Any]] = []
    if not interfaces:
        for adapter in adapters:
            for addr, version in _adapter_ips(adapter):
                if not ipaddress.ip_address(addr).is_loopback:
                    chosen.append((addr, version, adapter))
    else:
        for entry in interfaces:
            if is_address(entry):
                addr = str(ipaddress.ip_address(_bare(entry)))
                owner = next((a for a in adapters for ip, _ in _adapter_ips(a) if ip == addr), None)
                chosen.append((addr, ipaddress.ip_address(addr).version, owner))
            else:
                for adapter in adapters:
                    if entry in (adapter.name, adapter.nice_name):
                        chosen.extend((ip, v, adapter) for ip, v in _adapter_ips(adapter))
    unique: dict[str, tuple[str, int, Any]] = {}
    for item in chosen:
        unique.setdefault(item[0], item)
    return list(unique.values())


def interface_addresses(
    interfaces: Sequence[str] | None = None, *, adapters: Iterable[Any] | None = None
) -> list[str]:
    """Addresses (IPv4 and IPv6, no zone) of the chosen interfaces; None means all non-loopback."""
    found = ifaddr.get_adapters() if adapters is None else adapters
    return [addr for addr, _, _ in _selected(interfaces, found)]


def multicast_interfaces(
    interfaces: Sequence[str] | None, adapters: Iterable[Any] | None = None
) -> list[str | int]:
    """What python-zeroconf should bind to: IPv4 addresses, and IPv6 interface indexes."""
    found = ifaddr.get_adapters() if adapters is None else adapters
    out: list[str | int] = []
    for addr, version, adapter in _selected(interfaces, found):
        if version == 4:
            out.append(addr)
        elif adapter is not None and adapter.index is not None and adapter.index not in out:
            # IPv6 multicast is joined per interface, so one entry per index is enough.
            out.append(int(adapter.index))
    return out


def host_names(*, adapters: Iterable[Any] | None = None) -> frozenset[str]:
    """Lower-case names and bare addresses this host answers to, for a Host-header check.

    The hostname, `<hostname>.local`, `localhost`, the loopback addresses and every interface
    address (IPv6 without zone or brackets). Cheap enough to call again when addresses change.
    """
    hostname = socket.gethostname().lower()
    short = hostname.split(".", 1)[0]
    names = {"localhost", "127.0.0.1", "::1", hostname, short, f"{short}.local"}
    found = ifaddr.get_adapters() if adapters is None else adapters
    for adapter in found:
        names.update(str(ipaddress.ip_address(a)) for a, _ in _adapter_ips(adapter))
    return frozenset(n for n in names if n)

"""Look at a network's mDNS from inside it; print what was seen as JSON.

Run inside the test's network namespace (`ip netns exec NS python mdns_probe.py ...`):
  - browses `_webthing._tcp` and `_wot._tcp` with python-zeroconf and resolves every instance
    (name, server host, port, addresses, TXT) until each type has one with the expected host;
  - asks, by a plain mDNS query, for the reverse (in-addr.arpa) name of each address found:
    python-zeroconf publishes no reverse records, Avahi does, so an answer shows Avahi is
    running beside the appliance on the same port 5353.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import socket
import struct
import sys
import time
from typing import TypedDict

from zeroconf import ServiceBrowser, ServiceListener, Zeroconf

TYPES = ("_webthing._tcp.local.", "_wot._tcp.local.")


class Advert(TypedDict):
    """One resolved service instance, as printed."""

    name: str
    server: str | None
    port: int | None
    addresses: list[str]
    txt: dict[str, str | None]


class Collector(ServiceListener):
    """Remembers the instance names the browser reports."""

    def __init__(self) -> None:
        self.names: set[tuple[str, str]] = set()

    def add_service(self, zc: Zeroconf, type_: str, name: str) -> None:
        self.names.add((type_, name))

    def update_service(self, zc: Zeroconf, type_: str, name: str) -> None:
        self.names.add((type_, name))

    def remove_service(self, zc: Zeroconf, type_: str, name: str) -> None:
        self.names.discard((type_, name))


def complete(info: Advert, host: str | None, subnet: ipaddress.IPv4Network) -> bool:
    """An advert served by HOST.local. (if given) with an address on `subnet`."""
    on_subnet = any(":" not in a and ipaddress.ip_address(a) in subnet for a in info["addresses"])
    return on_subnet and (not host or info["server"] == f"{host}.local.")


def browse(
    host: str | None, subnet: ipaddress.IPv4Network, timeout: float
) -> dict[str, list[Advert]]:
    """Resolve the adverts of both types until each has one served by `host` (if given) with
    an address on `subnet` (the VM may get that address after the appliance started: its
    address watcher re-announces)."""
    zc = Zeroconf()
    found: dict[str, list[Advert]] = {t: [] for t in TYPES}
    try:
        collector = Collector()
        ServiceBrowser(zc, list(TYPES), collector)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = {t: [] for t in TYPES}
            for type_, name in sorted(collector.names):
                info = zc.get_service_info(type_, name, timeout=3000)
                if info is None:
                    continue
                found[type_].append(
                    {
                        "name": name,
                        "server": info.server,
                        "port": info.port,
                        "addresses": info.parsed_addresses(),
                        "txt": {
                            k.decode(): (v.decode() if v is not None else None)
                            for k, v in info.properties.items()
                        },
                    }
                )
            if all(any(complete(i, host, subnet) for i in found[t]) for t in TYPES):
                break
            time.sleep(1)
    finally:
        zc.close()
    return found


def reverse_name(address: str) -> str:
    return ipaddress.ip_address(address).reverse_pointer + "."


def query(name: str, source: str, qtype: int = 12, timeout: float = 3.0) -> list[str]:
    """A one-shot (legacy unicast) mDNS query sent from `source`; returns the PTR answers."""
    packet = struct.pack("!HHHHHH", 0x1234, 0, 1, 0, 0, 0)
    for label in name.rstrip(".").split("."):
        packet += bytes([len(label)]) + label.encode()
    packet += b"\0" + struct.pack("!HH", qtype, 1)
    answers: list[str] = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 255)
        # The namespace has no default route: name the interface for the multicast.
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(source))
        sock.settimeout(timeout)
        sock.sendto(packet, ("224.0.0.251", 5353))
        try:
            while True:
                data, _ = sock.recvfrom(9000)
                answers.extend(_ptr_answers(data))
                if answers:
                    break
        except TimeoutError:
            pass
    return answers


def _read_name(data: bytes, offset: int) -> tuple[str, int]:
    labels: list[str] = []
    jumped, end = False, offset
    while True:
        length = data[offset]
        if length & 0xC0 == 0xC0:
            if not jumped:
                end = offset + 2
            offset, jumped = ((length & 0x3F) << 8) | data[offset + 1], True
            continue
        if length == 0:
            return ".".join(labels) + ".", (end if jumped else offset + 1)
        labels.append(data[offset + 1 : offset + 1 + length].decode(errors="replace"))
        offset += 1 + length


def _ptr_answers(data: bytes) -> list[str]:
    _id, _flags, qd, an, _ns, _ar = struct.unpack("!HHHHHH", data[:12])
    offset = 12
    for _ in range(qd):
        _, offset = _read_name(data, offset)
        offset += 4
    names = []
    for _ in range(an):
        _, offset = _read_name(data, offset)
        rtype, _rclass, _ttl, rdlen = struct.unpack("!HHIH", data[offset : offset + 10])
        offset += 10
        if rtype == 12:
            names.append(_read_name(data, offset)[0])
        offset += rdlen
    return names


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", help="wait for adverts whose server is HOST.local.")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to browse")
    parser.add_argument(
        "--reverse",
        action="store_true",
        help="also ask for the reverse names of the VM's addresses (Avahi)",
    )
    parser.add_argument(
        "--source",
        default="10.213.77.1",
        help="this side's address on the VM's network; reverse names are asked "
        "for the VM's addresses in its /24",
    )
    args = parser.parse_args()
    subnet = ipaddress.IPv4Network(f"{args.source}/24", strict=False)
    adverts = browse(args.host, subnet, args.timeout)
    addresses = sorted(
        {
            a
            for infos in adverts.values()
            for i in infos
            for a in i["addresses"]
            if ":" not in a and ipaddress.ip_address(a) in subnet
        }
    )
    reverse = {}
    for address in addresses if args.reverse else []:
        # Avahi may be re-probing its records (after a name conflict) for a few seconds.
        deadline = time.monotonic() + args.timeout / 2
        while not (answers := query(reverse_name(address), args.source)):
            if time.monotonic() > deadline:
                break
        reverse[address] = answers
    json.dump({"adverts": adverts, "reverse": reverse}, sys.stdout, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())

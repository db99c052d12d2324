"""Choosing interfaces and addresses, and the names the host answers to (no network needed)."""

from __future__ import annotations

import socket
from types import SimpleNamespace
from typing import Any

import pytest
from zeroconf import IPVersion

from thingtalk.addresses import host_names, interface_addresses, multicast_interfaces
from thingtalk.discovery import Advertiser, _instance_name, _ip_version


def adapter(name: str, index: int, *ips: Any) -> SimpleNamespace:
    return SimpleNamespace(
        name=name, nice_name=name, index=index, ips=[SimpleNamespace(ip=ip) for ip in ips]
    )


ADAPTERS = [
    adapter("lo", 1, "127.0.0.1", ("::1", 0, 0)),
    adapter("eth0", 2, "192.168.1.20", ("fe80::1", 0, 2), ("2001:db8::20", 0, 0)),
    adapter("wlan0", 3, "10.0.0.5", ("fe80::2%wlan0", 0, 3)),
    adapter("usb0", 4),  # up, but no address yet
]


def test_default_is_every_non_loopback_address_both_families() -> None:
    assert interface_addresses(None, adapters=ADAPTERS) == [
        "192.168.1.20",
        "fe80::1",
        "2001:db8::20",
        "10.0.0.5",
        "fe80::2",
    ]
    everything = interface_addresses(None, adapters=ADAPTERS)
    assert interface_addresses([], adapters=ADAPTERS) == everything


def test_interface_names_and_addresses_limit_the_choice() -> None:
    assert interface_addresses(["wlan0"], adapters=ADAPTERS) == ["10.0.0.5", "fe80::2"]
    assert interface_addresses(["127.0.0.1"], adapters=ADAPTERS) == ["127.0.0.1"]
    assert interface_addresses(["eth0", "192.168.1.20", "usb0"], adapters=ADAPTERS) == [
        "192.168.1.20",
        "fe80::1",
        "2001:db8::20",
    ]
    assert interface_addresses(["missing0"], adapters=ADAPTERS) == []


def testmulticast_interfaces_are_ipv4_addresses_and_one_ipv6_index_per_interface() -> None:
    assert multicast_interfaces(None, ADAPTERS) == ["192.168.1.20", 2, "10.0.0.5", 3]
    assert multicast_interfaces(["127.0.0.1"], ADAPTERS) == ["127.0.0.1"]
    assert multicast_interfaces(["2001:db8::20"], ADAPTERS) == [2]


def test_ip_version_follows_the_choice() -> None:
    assert _ip_version(None) is IPVersion.All
    assert _ip_version(["eth0"]) is IPVersion.All
    assert _ip_version(["127.0.0.1"]) is IPVersion.V4Only
    assert _ip_version(["::1"]) is IPVersion.V6Only
    assert _ip_version(["127.0.0.1", "::1"]) is IPVersion.All


def test_host_names_cover_hostname_local_name_loopback_and_addresses() -> None:
    names = host_names(adapters=ADAPTERS)
    short = socket.gethostname().lower().split(".")[0]
    assert {short, f"{short}.local", "localhost", "127.0.0.1", "::1"} <= names
    assert {"192.168.1.20", "2001:db8::20", "fe80::1", "fe80::2", "10.0.0.5"} <= names
    assert all(n == n.lower() and "%" not in n and "[" not in n for n in names)


def test_host_names_reads_the_real_interfaces() -> None:
    assert "127.0.0.1" in host_names()


def test_instance_name_is_a_single_label_of_at_most_63_bytes() -> None:
    assert _instance_name("My Lamp") == "My Lamp"
    assert _instance_name("Lamp v1.2") == "Lamp v1-2"
    assert len(_instance_name("é" * 40).encode()) <= 63
    assert _instance_name("   ") == "Web Thing"


def test_invalid_arguments_are_rejected() -> None:
    with pytest.raises(ValueError, match="wot_type"):
        Advertiser("x", 80, wot_type="Gadget")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="poll_interval"):
        Advertiser("x", 80, poll_interval=0)


async def test_stop_before_start_and_refresh_when_stopped_do_nothing() -> None:
    adv = Advertiser("x", 80, address_source=lambda: ["127.0.0.1"])
    await adv.stop()
    assert not await adv.refresh()
    assert not adv.started

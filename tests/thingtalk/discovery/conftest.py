"""Fixtures for mDNS tests on loopback: multicast check, a browsing client, unique names."""

from __future__ import annotations

import asyncio
import os
import select
import shutil
import socket
import subprocess
import uuid
from collections.abc import AsyncIterator, Callable

import pytest
from zeroconf import ServiceStateChange, Zeroconf
from zeroconf.asyncio import AsyncServiceBrowser, AsyncZeroconf

from thingtalk.discovery import WEBTHING_SERVICE, WOT_SERVICE

MDNS_GROUP = "224.0.0.251"
LOOPBACK = "127.0.0.1"


def _loopback_multicast_works() -> bool:
    """Send one datagram to the mDNS group out of lo and see it come back (on a spare port)."""
    with (
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as rx,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx,
    ):
        try:
            rx.bind(("", 0))
            member = socket.inet_aton(MDNS_GROUP) + socket.inet_aton(LOOPBACK)
            rx.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, member)
            tx.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(LOOPBACK))
            tx.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
            tx.sendto(b"probe", (MDNS_GROUP, rx.getsockname()[1]))
        except OSError:
            return False
        return bool(select.select([rx], [], [], 1.0)[0])


@pytest.fixture(scope="session")
def loopback_multicast() -> None:
    """Make sure multicast works on lo; as root, bring lo up with MULTICAST if it does not."""
    if _loopback_multicast_works():
        return
    ip = shutil.which("ip")
    if hasattr(os, "geteuid") and os.geteuid() == 0 and ip:
        # Some kernels and containers route no multicast through lo until the flag is set.
        subprocess.run([ip, "link", "set", "lo", "up", "multicast", "on"], check=False)
        if _loopback_multicast_works():
            return
    # The machine, not the code: the suite's skip summary lists this reason at the end.
    pytest.skip(
        "MDNS TESTS SKIPPED: multicast on the loopback interface does not work here and could not "
        "be enabled (needs root: `ip link set lo up multicast on`)"
    )


@pytest.fixture
def unique_name() -> str:
    """A thing title no other test run on this host advertises."""
    return f"Test Lamp {uuid.uuid4().hex[:8]}"


class Browser:
    """Records browse events for the two service types and lets a test wait on them."""

    def __init__(self) -> None:
        self.present: set[str] = set()
        self.events: list[tuple[ServiceStateChange, str]] = []
        self._changed = asyncio.Event()

    def on_change(
        self, zeroconf: Zeroconf, service_type: str, name: str, state_change: ServiceStateChange
    ) -> None:
        self.events.append((state_change, name))
        if state_change is ServiceStateChange.Removed:
            self.present.discard(name)
        else:
            self.present.add(name)
        self._changed.set()

    async def wait(self, predicate: Callable[[], bool], within: float = 15.0) -> None:
        """Wait until predicate() holds, re-checking after every browse event."""
        async with asyncio.timeout(within):
            while not predicate():
                self._changed.clear()
                await self._changed.wait()


@pytest.fixture
async def client(loopback_multicast: None) -> AsyncIterator[AsyncZeroconf]:
    """A python-zeroconf peer on loopback, as a gateway would be on the LAN."""
    aiozc = AsyncZeroconf(interfaces=[LOOPBACK])
    yield aiozc
    await aiozc.async_close()


@pytest.fixture
async def browser(client: AsyncZeroconf) -> AsyncIterator[Browser]:
    """A running browser for `_webthing._tcp` and `_wot._tcp` on loopback."""
    seen = Browser()
    sb = AsyncServiceBrowser(
        client.zeroconf, [WEBTHING_SERVICE, WOT_SERVICE], handlers=[seen.on_change]
    )
    yield seen
    await sb.async_cancel()

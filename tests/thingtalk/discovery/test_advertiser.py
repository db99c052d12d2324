"""The advertiser on loopback, seen by a real python-zeroconf browser."""

from __future__ import annotations

import pytest
from zeroconf import ServiceStateChange
from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

from thingtalk.discovery import WEBTHING_SERVICE, WOT_SERVICE, Advertiser

from .conftest import LOOPBACK, Browser

pytestmark = pytest.mark.usefixtures("loopback_multicast")


async def resolve(client: AsyncZeroconf, type_: str, name: str) -> AsyncServiceInfo:
    info = AsyncServiceInfo(type_, name)
    assert await info.async_request(client.zeroconf, 3000), f"{name} did not resolve"
    return info


def txt(info: AsyncServiceInfo) -> dict[str, str]:
    return {k.decode(): (v or b"").decode() for k, v in info.properties.items()}


async def test_both_services_found_with_txt_and_port(
    client: AsyncZeroconf, browser: Browser, unique_name: str
) -> None:
    adv = Advertiser(unique_name, 8123, webthing_path="/things/0", interfaces=[LOOPBACK])
    await adv.start()
    try:
        names = adv.names
        assert names == {
            WEBTHING_SERVICE: f"{unique_name}.{WEBTHING_SERVICE}",
            WOT_SERVICE: f"{unique_name}.{WOT_SERVICE}",
        }
        await browser.wait(lambda: set(names.values()) <= browser.present)

        webthing = await resolve(client, WEBTHING_SERVICE, names[WEBTHING_SERVICE])
        assert webthing.port == 8123
        assert txt(webthing) == {"path": "/things/0"}
        assert LOOPBACK in webthing.parsed_addresses()

        wot = await resolve(client, WOT_SERVICE, names[WOT_SERVICE])
        assert wot.port == 8123
        assert txt(wot) == {"td": "/.well-known/wot", "type": "Thing", "scheme": "http"}
        assert adv.addresses == [LOOPBACK]
    finally:
        await adv.stop()


async def test_tls_and_directory_records(client: AsyncZeroconf, unique_name: str) -> None:
    adv = Advertiser(
        unique_name, 8443, td_path="/td", wot_type="Directory", tls=True, interfaces=[LOOPBACK]
    )
    async with adv:
        webthing = await resolve(client, WEBTHING_SERVICE, adv.names[WEBTHING_SERVICE])
        assert txt(webthing) == {"path": "/", "tls": "1"}
        wot = await resolve(client, WOT_SERVICE, adv.names[WOT_SERVICE])
        assert txt(wot) == {"td": "/td", "type": "Directory", "scheme": "https"}
        assert wot.port == 8443


async def test_no_wot_record_without_td_path(client: AsyncZeroconf, unique_name: str) -> None:
    async with Advertiser(unique_name, 8124, td_path=None, interfaces=[LOOPBACK]) as adv:
        assert list(adv.names) == [WEBTHING_SERVICE]
        await resolve(client, WEBTHING_SERVICE, adv.names[WEBTHING_SERVICE])
        info = AsyncServiceInfo(WOT_SERVICE, f"{unique_name}.{WOT_SERVICE}")
        assert not await info.async_request(client.zeroconf, 500)


async def test_without_addresses_the_records_leave_the_host_name_to_its_owner(
    client: AsyncZeroconf, unique_name: str
) -> None:
    # Where Avahi owns <hostname>.local, the adverts carry SRV/TXT only: no A/AAAA records of
    # the host that would make two responders see a conflict.
    adv = Advertiser(
        unique_name,
        8125,
        interfaces=[LOOPBACK],
        server="owned-elsewhere.local.",
        publish_addresses=False,
    )
    async with adv:
        info = AsyncServiceInfo(WEBTHING_SERVICE, adv.names[WEBTHING_SERVICE])
        # Resolution stays incomplete: nobody on loopback answers for the host's addresses.
        assert not await info.async_request(client.zeroconf, 1500)
        assert info.port == 8125
        assert info.server == "owned-elsewhere.local."
        assert txt(info) == {"path": "/"}
        assert info.parsed_addresses() == []


async def test_stop_withdraws_both_records(browser: Browser, unique_name: str) -> None:
    adv = Advertiser(unique_name, 8125, interfaces=[LOOPBACK])
    await adv.start()
    await adv.start()  # idempotent
    names = set(adv.names.values())
    await browser.wait(lambda: names <= browser.present)

    await adv.stop()
    await adv.stop()  # idempotent
    await browser.wait(lambda: not names & browser.present)
    removed = {name for change, name in browser.events if change is ServiceStateChange.Removed}
    assert names <= removed
    assert not adv.started
    assert adv.names == {}
    assert adv.zeroconf is None


async def test_restart_after_stop(client: AsyncZeroconf, unique_name: str) -> None:
    adv = Advertiser(unique_name, 8126, td_path=None, interfaces=[LOOPBACK])
    await adv.start()
    await adv.stop()
    async with adv:
        info = await resolve(client, WEBTHING_SERVICE, adv.names[WEBTHING_SERVICE])
        assert info.port == 8126


async def test_name_conflict_gets_a_new_unique_name(
    client: AsyncZeroconf, unique_name: str
) -> None:
    # Several responders on one host share 127.0.0.1:5353, so the unicast answer to a probe
    # reaches a random one of them; the second responder here is one that was already
    # listening when the first announced, as a device on the LAN would have been.
    peer = AsyncZeroconf(interfaces=[LOOPBACK])
    first = Advertiser(unique_name, 8127, interfaces=[LOOPBACK])
    second = Advertiser(unique_name, 8128, zeroconf=peer)
    try:
        async with first, second:
            for type_ in (WEBTHING_SERVICE, WOT_SERVICE):
                assert first.names[type_] == f"{unique_name}.{type_}"
                assert second.names[type_] == f"{unique_name}-2.{type_}"
                assert (await resolve(client, type_, first.names[type_])).port == 8127
                assert (await resolve(client, type_, second.names[type_])).port == 8128
    finally:
        await peer.async_close()


async def test_name_conflict_on_a_shared_zeroconf(client: AsyncZeroconf, unique_name: str) -> None:
    shared = AsyncZeroconf(interfaces=[LOOPBACK])
    try:
        async with (
            Advertiser(unique_name, 8132, td_path=None, zeroconf=shared) as first,
            Advertiser(unique_name, 8133, td_path=None, zeroconf=shared) as second,
        ):
            assert first.names != second.names
            info = await resolve(client, WEBTHING_SERVICE, second.names[WEBTHING_SERVICE])
            assert info.port == 8133
    finally:
        await shared.async_close()


async def test_refresh_reannounces_changed_addresses(
    client: AsyncZeroconf, browser: Browser, unique_name: str
) -> None:
    current = [LOOPBACK]
    adv = Advertiser(unique_name, 8129, interfaces=[LOOPBACK], address_source=lambda: current)
    async with adv:
        name = adv.names[WEBTHING_SERVICE]
        await browser.wait(lambda: name in browser.present)
        assert not await adv.refresh()  # nothing changed

        current = [LOOPBACK, "198.51.100.7"]
        assert await adv.refresh()
        assert adv.addresses == [LOOPBACK, "198.51.100.7"]
        await browser.wait(lambda: (ServiceStateChange.Updated, name) in browser.events)
        info = await resolve(client, WEBTHING_SERVICE, name)
        assert set(info.parsed_addresses()) == {LOOPBACK, "198.51.100.7"}
        assert txt(info) == {"path": "/"}


async def test_watcher_polls_addresses(
    client: AsyncZeroconf, browser: Browser, unique_name: str
) -> None:
    current = [LOOPBACK]
    adv = Advertiser(
        unique_name,
        8130,
        td_path=None,
        interfaces=[LOOPBACK],
        address_source=lambda: current,
        poll_interval=0.05,
    )
    async with adv:
        name = adv.names[WEBTHING_SERVICE]
        await browser.wait(lambda: name in browser.present)
        current = [LOOPBACK, "198.51.100.8"]
        await browser.wait(lambda: (ServiceStateChange.Updated, name) in browser.events)
        info = await resolve(client, WEBTHING_SERVICE, name)
        assert "198.51.100.8" in info.parsed_addresses()


async def test_injected_zeroconf_is_used_and_left_open(
    client: AsyncZeroconf, unique_name: str
) -> None:
    shared = AsyncZeroconf(interfaces=[LOOPBACK])
    try:
        current = [LOOPBACK]
        adv = Advertiser(
            unique_name, 8131, td_path=None, zeroconf=shared, address_source=lambda: current
        )
        async with adv:
            assert adv.zeroconf is shared
            await resolve(client, WEBTHING_SERVICE, adv.names[WEBTHING_SERVICE])
            current = [LOOPBACK, "198.51.100.9"]
            assert await adv.refresh()
        assert not shared.zeroconf.done
        assert shared.zeroconf.registry.async_get_service_infos() == []
    finally:
        await shared.async_close()

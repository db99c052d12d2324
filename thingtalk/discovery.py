"""mDNS / DNS-SD adverts for web things: `_webthing._tcp` and W3C WoT Discovery's `_wot._tcp`.

Built on python-zeroconf's asyncio API. Nothing happens at import time: an `Advertiser` opens its
sockets in `start()` and withdraws its records in `stop()`. A watcher task polls the interface
addresses (cheaply, every few seconds) and re-announces the records when they change, so a DHCP
renewal or a Wi-Fi link that comes up late is picked up without a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ipaddress
import logging
import socket
from collections.abc import Callable, Sequence
from typing import Literal

from zeroconf import IPVersion
from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

from .addresses import host_names, interface_addresses, is_address, multicast_interfaces

__all__ = [
    "WEBTHING_SERVICE",
    "WOT_SERVICE",
    "AddressSource",
    "Advertiser",
    "host_names",
    "interface_addresses",
]

log = logging.getLogger(__name__)

WEBTHING_SERVICE = "_webthing._tcp.local."
WOT_SERVICE = "_wot._tcp.local."

AddressSource = Callable[[], Sequence[str]]
"""Returns the addresses to advertise; called at start and on every watcher tick."""

# How long after an address change the sockets are re-checked (IPv6 DAD takes a few seconds).
_SETTLE_SECONDS = 30.0

# DNS labels are at most 63 bytes; keep room for the "-2" a name conflict appends.
_MAX_INSTANCE_BYTES = 60


def _ip_version(interfaces: Sequence[str] | None) -> IPVersion:
    """Both families unless the choice is only addresses of one family."""
    if not interfaces or not all(is_address(i) for i in interfaces):
        return IPVersion.All
    versions = {ipaddress.ip_address(i.split("%", 1)[0]).version for i in interfaces}
    if versions == {4}:
        return IPVersion.V4Only
    return IPVersion.V6Only if versions == {6} else IPVersion.All


def _instance_name(name: str) -> str:
    """The thing's title as a DNS-SD instance name: no dots, at most 63 bytes."""
    # python-zeroconf does not escape dots, so a dot would split the instance name in two labels.
    text = name.replace(".", "-").strip() or "Web Thing"
    raw = text.encode()[:_MAX_INSTANCE_BYTES]
    return raw.decode(errors="ignore")


class Advertiser:
    """Advertises a web server over mDNS: `_webthing._tcp`, and `_wot._tcp` unless td_path is None.

    `start()` and `stop()` are idempotent. A name already taken on the network is replaced by
    a unique one (`Title-2`); `names` tells what was actually registered. An injected
    `zeroconf` instance is used as is and never closed; otherwise one is opened on the chosen
    interfaces at start and closed at stop. With `publish_addresses=False` the records carry
    no A/AAAA records, leaving the host name `server` to the machine's own mDNS responder.
    """

    def __init__(
        self,
        name: str,
        port: int,
        *,
        webthing_path: str = "/",
        td_path: str | None = "/.well-known/wot",
        wot_type: Literal["Thing", "Directory"] = "Thing",
        tls: bool = False,
        interfaces: Sequence[str] | None = None,
        zeroconf: AsyncZeroconf | None = None,
        address_source: AddressSource | None = None,
        poll_interval: float = 10.0,
        server: str | None = None,
        publish_addresses: bool = True,
    ) -> None:
        if wot_type not in ("Thing", "Directory"):
            raise ValueError(f"wot_type must be 'Thing' or 'Directory', not {wot_type!r}")
        if poll_interval <= 0:
            raise ValueError("poll_interval must be positive")
        self.name = _instance_name(name)
        self.port = port
        self.webthing_path = webthing_path
        self.td_path = td_path
        self.wot_type = wot_type
        self.tls = tls
        self.interfaces = list(interfaces) if interfaces else None
        self.poll_interval = poll_interval
        self._server = server
        self.publish_addresses = publish_addresses
        self._injected = zeroconf
        self._zc: AsyncZeroconf | None = None
        self._addresses_of: AddressSource = address_source or functools.partial(
            interface_addresses, self.interfaces
        )
        self._addresses: list[str] = []
        self._infos: dict[str, AsyncServiceInfo] = {}
        self._watcher: asyncio.Task[None] | None = None
        self._rescan_until = 0.0
        self._lock = asyncio.Lock()

    @property
    def started(self) -> bool:
        """Whether the records are registered."""
        return bool(self._infos)

    @property
    def names(self) -> dict[str, str]:
        """Service type -> full instance name actually registered (after any conflict rename)."""
        return {type_: info.name for type_, info in self._infos.items()}

    @property
    def addresses(self) -> list[str]:
        """The addresses currently advertised."""
        return list(self._addresses)

    @property
    def zeroconf(self) -> AsyncZeroconf | None:
        """The AsyncZeroconf in use while started."""
        return self._zc

    def _txt(self, type_: str) -> dict[str, str]:
        if type_ == WEBTHING_SERVICE:
            txt = {"path": self.webthing_path}
            if self.tls:
                txt["tls"] = "1"
            return txt
        assert self.td_path is not None
        return {
            "td": self.td_path,
            "type": self.wot_type,
            "scheme": "https" if self.tls else "http",
        }

    def _info(self, type_: str, full_name: str) -> AsyncServiceInfo:
        return AsyncServiceInfo(
            type_,
            full_name,
            port=self.port,
            properties=self._txt(type_),
            # Without addresses the records point at `server` and whoever owns the host name
            # (Avahi on Raspberry Pi OS) answers for its addresses: two responders publishing
            # the same host's A/AAAA records see a conflict and one renames the host.
            parsed_addresses=self._addresses if self.publish_addresses else [],
            server=self._server,
        )

    def _open(self) -> AsyncZeroconf:
        if self._injected is not None:
            return self._injected
        version = _ip_version(self.interfaces)
        chosen = multicast_interfaces(self.interfaces)
        try:
            return AsyncZeroconf(interfaces=chosen, ip_version=version)
        except OSError:
            if version is IPVersion.V4Only:
                raise
            # A kernel booted without IPv6 (common on Pi images) cannot open the dual-stack socket.
            log.warning("mDNS: IPv6 unavailable, advertising over IPv4 only", exc_info=True)
            v4 = [i for i in chosen if isinstance(i, str)]
            return AsyncZeroconf(interfaces=v4, ip_version=IPVersion.V4Only)

    async def start(self) -> None:
        """Open zeroconf (unless injected), register the records and start the address watcher."""
        async with self._lock:
            if self._infos:
                return
            self._zc = self._open()
            if self._server is None:
                short = socket.gethostname().split(".", 1)[0] or "webthing"
                self._server = f"{short}.local."
            self._addresses = list(self._addresses_of())
            types = [WEBTHING_SERVICE] + ([WOT_SERVICE] if self.td_path is not None else [])
            self._infos = {t: self._info(t, f"{self.name}.{t}") for t in types}
            try:
                # Probing takes about 1.5 s per service; both probe at once.
                pending = await asyncio.gather(
                    *(
                        self._zc.async_register_service(i, allow_name_change=True)
                        for i in self._infos.values()
                    )
                )
                await asyncio.gather(*pending)
            except BaseException:
                await self._withdraw()
                raise
            self._watcher = asyncio.create_task(self._watch(), name=f"mdns-watch {self.name}")
            log.info("mDNS: advertising %s on %s", ", ".join(self.names.values()), self._addresses)

    async def stop(self) -> None:
        """Stop the watcher, send goodbyes for the records and close zeroconf if it is ours."""
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        async with self._lock:
            await self._withdraw()

    async def _withdraw(self) -> None:
        zc, infos = self._zc, list(self._infos.values())
        self._infos, self._zc = {}, None
        if zc is None:
            return
        # Only what made it into the registry (a failed start may have registered one of two).
        registry = zc.zeroconf.registry
        infos = [i for i in infos if registry.async_get_info_name(i.key) is i]
        try:
            if infos and not zc.zeroconf.done:
                pending = await asyncio.gather(*(zc.async_unregister_service(i) for i in infos))
                await asyncio.gather(*pending)
        finally:
            if zc is not self._injected:
                await zc.async_close()
        if infos:
            log.info("mDNS: withdrew %s", ", ".join(i.name for i in infos))

    async def refresh(self) -> bool:
        """Re-read the addresses now; if they changed, re-announce the records. True if changed."""
        async with self._lock:
            zc = self._zc
            if zc is None or not self._infos:
                return False
            addresses = list(self._addresses_of())
            changed = addresses != self._addresses
            if changed:
                self._addresses = addresses
                log.info("mDNS: addresses changed to %s, re-announcing", addresses)
                pending = []
                for type_, old in list(self._infos.items()):
                    info = self._info(type_, old.name)
                    self._infos[type_] = info
                    pending.append(await zc.async_update_service(info))
                await asyncio.gather(*pending)
            update_interfaces = getattr(zc, "async_update_interfaces", None)
            now = asyncio.get_running_loop().time()
            if changed:
                self._rescan_until = now + _SETTLE_SECONDS
            if now <= self._rescan_until and zc is not self._injected and update_interfaces:
                # Open sockets on interfaces that appeared since start (python-zeroconf >= 0.150).
                # A new IPv6 address cannot be bound while duplicate address detection runs, so
                # the sockets are reconciled again on each call for a while after a change.
                await update_interfaces(multicast_interfaces(self.interfaces))
            return changed

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.poll_interval)
            try:
                await self.refresh()
            except Exception:
                # A transient failure (an interface vanishing mid-scan) must not end the watcher.
                log.warning("mDNS: address refresh failed", exc_info=True)

    async def __aenter__(self) -> Advertiser:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

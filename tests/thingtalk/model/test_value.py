"""Value: the forwarder (setter) and the "update"/"sync" events."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from thingtalk import Value

from .conftest import wait


def listen(value: Value) -> dict[str, list[Any]]:
    heard: dict[str, list[Any]] = {"update": [], "sync": []}
    value.on("update", heard["update"].append)
    value.on("sync", heard["sync"].append)
    return heard


def test_get_returns_the_initial_value() -> None:
    assert Value(42).get() == 42
    assert Value(None).get() is None


async def test_set_calls_a_sync_forwarder_stores_and_emits_update() -> None:
    calls: list[Any] = []
    value = Value(False, calls.append)
    heard = listen(value)

    await value.set(True)

    assert calls == [True]
    assert value.get() is True
    assert heard == {"update": [True], "sync": []}


async def test_set_awaits_an_async_forwarder_before_storing() -> None:
    seen_during_forward: list[Any] = []
    value: Value

    async def forwarder(v: Any) -> None:
        await asyncio.sleep(0)
        seen_during_forward.append((v, value.get()))

    value = Value(1, forwarder)
    heard = listen(value)

    await value.set(2)

    assert seen_during_forward == [(2, 1)]  # the old value while the device is driven
    assert value.get() == 2
    assert heard["update"] == [2]


async def test_value_is_stored_only_once_a_slow_forwarder_finished() -> None:
    release = asyncio.Event()
    entered = asyncio.Event()

    async def forwarder(_v: Any) -> None:
        entered.set()
        await release.wait()

    value = Value("old", forwarder)
    heard = listen(value)
    setting = asyncio.create_task(value.set("new"))
    await wait(entered.wait())

    assert value.get() == "old"
    assert heard["update"] == []

    release.set()
    await wait(setting)
    assert value.get() == "new"
    assert heard["update"] == ["new"]


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_a_raising_forwarder_keeps_the_old_value_and_emits_nothing(kind: str) -> None:
    def sync_forwarder(_v: Any) -> None:
        raise OSError("device unplugged")

    async def async_forwarder(_v: Any) -> None:
        raise OSError("device unplugged")

    value = Value(10, sync_forwarder if kind == "sync" else async_forwarder)
    heard = listen(value)

    with pytest.raises(OSError, match="device unplugged"):
        await value.set(20)

    assert value.get() == 10
    assert heard == {"update": [], "sync": []}


async def test_set_without_a_forwarder_stores_and_emits_update() -> None:
    value = Value(0)
    heard = listen(value)
    await value.set(5)
    assert value.get() == 5
    assert heard["update"] == [5]


async def test_set_with_action_emits_update_even_for_the_same_value() -> None:
    # A client re-sending the current value drives the device again.
    calls: list[Any] = []
    value = Value(True, calls.append)
    heard = listen(value)
    await value.set(True)
    assert calls == [True]
    assert heard["update"] == [True]


async def test_set_without_action_stores_emits_sync_and_skips_the_forwarder() -> None:
    calls: list[Any] = []
    value = Value(1, calls.append)
    heard = listen(value)

    await value.set(2, with_action=False)

    assert calls == []
    assert value.get() == 2
    assert heard == {"update": [], "sync": [2]}


async def test_set_without_action_is_silent_when_the_value_did_not_change() -> None:
    calls: list[Any] = []
    value = Value(1, calls.append)
    heard = listen(value)
    await value.set(1, with_action=False)
    assert calls == []
    assert heard == {"update": [], "sync": []}


async def test_notify_of_external_update_stores_and_emits_sync_without_forwarding() -> None:
    calls: list[Any] = []
    value = Value(20.5, calls.append)
    heard = listen(value)

    await value.notify_of_external_update(21.0)
    await value.notify_of_external_update(21.0)  # the same reading again: no noise
    await value.notify_of_external_update(21.5)

    assert calls == []
    assert value.get() == 21.5
    assert heard == {"update": [], "sync": [21.0, 21.5]}


async def test_notify_of_external_update_treats_a_change_of_type_as_a_change() -> None:
    value = Value(1)
    heard = listen(value)
    await value.notify_of_external_update(True)  # 1 == True, but a boolean is news
    assert value.get() is True
    assert heard["sync"] == [True]

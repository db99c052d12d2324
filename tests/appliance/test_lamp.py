"""The lamp on a simulated LED: properties drive the duty cycle, fades ramp without blocking."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from appliance.lamp import Lamp
from appliance.state import LampState
from hardware import SimulatedLed, duty_for_level
from thingtalk import ActionStatus, MultipleThings, WebThingServer

from .conftest import until

GAMMA = 2.2


class Saved:
    """A state listener that records what it is asked to save."""

    def __init__(self) -> None:
        self.states: list[LampState] = []

    async def __call__(self, state: LampState) -> None:
        self.states.append(state)


@pytest.fixture
def led() -> SimulatedLed:
    return SimulatedLed(gamma=GAMMA)


@pytest.fixture
def saved() -> Saved:
    return Saved()


@pytest.fixture
async def lamp(led: SimulatedLed, saved: Saved) -> AsyncIterator[Lamp]:
    thing = Lamp(led, LampState(on=True, brightness=50), saved, fade_step=0.005)
    await thing.ensure_built()
    yield thing
    await thing.close()


def duty(level: float) -> float:
    return duty_for_level(level, GAMMA)


async def test_restores_the_saved_state_on_the_led(led: SimulatedLed) -> None:
    lamp = await Lamp(led, LampState(on=True, brightness=30)).ensure_built()
    assert lamp.get_properties() == {"on": True, "brightness": 30}
    assert led.duty_cycle == pytest.approx(duty(30))

    dark = SimulatedLed(gamma=GAMMA)
    off = await Lamp(dark, LampState(on=False, brightness=80)).ensure_built()
    assert off.get_property("brightness") == 80
    assert dark.duty_cycle == 0.0


async def test_brightness_drives_the_duty_cycle_through_gamma(
    lamp: Lamp, led: SimulatedLed, saved: Saved
) -> None:
    await lamp.set_property("brightness", 75)
    assert led.duty_cycle == pytest.approx(duty(75))
    assert 0 < led.duty_cycle < 75  # the gamma curve, not a straight line
    assert saved.states[-1] == LampState(on=True, brightness=75)


async def test_off_is_duty_zero_and_keeps_brightness(
    lamp: Lamp, led: SimulatedLed, saved: Saved
) -> None:
    await lamp.set_property("brightness", 60)
    await lamp.set_property("on", False)
    assert led.duty_cycle == 0.0
    assert lamp.get_property("brightness") == 60
    assert saved.states[-1] == LampState(on=False, brightness=60)

    await lamp.set_property("brightness", 20)  # dimming while off stays dark
    assert led.duty_cycle == 0.0
    await lamp.set_property("on", True)
    assert led.duty_cycle == pytest.approx(duty(20))


async def test_fade_ramps_through_intermediate_duties_without_blocking(
    lamp: Lamp, led: SimulatedLed, saved: Saved
) -> None:
    await lamp.set_property("brightness", 10)
    led.history.clear()
    seen: list[int] = []
    lamp.find_property("brightness").value.on("sync", seen.append)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    ticking = asyncio.create_task(ticker())
    action = lamp.perform_action("fade", {"brightness": 90, "duration": 300})
    try:
        await until(lambda: action.status is ActionStatus.PENDING, what="the fade to start")
        # The loop keeps running other tasks while the fade is on its way.
        await until(lambda: ticks > 50 and not action.finished, what="ticks during the fade")
        await asyncio.wait_for(action.done.wait(), 10)
    finally:
        ticking.cancel()
    assert action.status is ActionStatus.COMPLETED
    assert lamp.get_property("brightness") == 90
    assert led.duty_cycle == pytest.approx(duty(90))
    history = list(led.history)
    between = [d for d in history if duty(10) < d < duty(90)]
    assert len(between) >= 5, history
    assert history == sorted(history)  # a monotonic ramp up
    assert seen and seen == sorted(seen) and all(10 < b <= 90 for b in seen)
    # Only where the fade ends is saved, not each step.
    assert saved.states[-1] == LampState(on=True, brightness=90)
    assert len(saved.states) == 2


async def test_http_answers_during_a_fade(lamp: Lamp, led: SimulatedLed) -> None:
    app = WebThingServer(MultipleThings([lamp], "Lamp"), discovery=False).create()
    async with app.test_app() as test_app:
        client = test_app.test_client()
        response = await client.post(
            "/0/actions/fade", json={"fade": {"input": {"brightness": 100, "duration": 400}}}
        )
        assert response.status_code == 201
        href = (await response.get_json())["fade"]["href"]
        seen = set()
        while True:
            status = (await (await client.get(href)).get_json())["fade"]["status"]
            value = (await (await client.get("/0/properties/brightness")).get_json())["brightness"]
            seen.add(value)
            if status == "completed":
                break
            await asyncio.sleep(0.01)
        assert any(50 < v < 100 for v in seen), seen
        assert value == 100


async def test_a_client_write_cancels_a_running_fade(lamp: Lamp, led: SimulatedLed) -> None:
    action = lamp.perform_action("fade", {"brightness": 100, "duration": 5000})
    await until(lambda: lamp.get_property("brightness") > 51, what="the fade to move")
    await lamp.set_property("brightness", 5)
    assert action.status is ActionStatus.CANCELLED
    assert lamp.get_property("brightness") == 5
    assert led.duty_cycle == pytest.approx(duty(5))


async def test_a_new_fade_replaces_the_old(lamp: Lamp) -> None:
    first = lamp.perform_action("fade", {"brightness": 100, "duration": 5000})
    await until(lambda: first.status is ActionStatus.PENDING)
    second = lamp.perform_action("fade", {"brightness": 0, "duration": 50})
    await asyncio.wait_for(second.done.wait(), 10)
    assert first.status is ActionStatus.CANCELLED
    assert second.status is ActionStatus.COMPLETED
    assert lamp.get_property("brightness") == 0


async def test_deleting_a_fade_keeps_where_it_stopped(
    lamp: Lamp, led: SimulatedLed, saved: Saved
) -> None:
    action = lamp.perform_action("fade", {"brightness": 100, "duration": 5000})
    await until(lambda: lamp.get_property("brightness") >= 55, what="the fade to move")
    await lamp.remove_action("fade", action.id)
    assert action.status is ActionStatus.CANCELLED
    level = lamp.get_property("brightness")
    assert 55 <= level < 100
    assert led.duty_cycle == pytest.approx(duty(level))
    assert saved.states[-1] == LampState(on=True, brightness=level)


async def test_fade_while_off_moves_brightness_only(lamp: Lamp, led: SimulatedLed) -> None:
    await lamp.set_property("on", False)
    action = lamp.perform_action("fade", {"brightness": 80, "duration": 50})
    await asyncio.wait_for(action.done.wait(), 10)
    assert lamp.get_property("brightness") == 80
    assert led.duty_cycle == 0.0


async def test_switching_off_during_a_fade_stays_dark(lamp: Lamp, led: SimulatedLed) -> None:
    action = lamp.perform_action("fade", {"brightness": 100, "duration": 300})
    await until(lambda: lamp.get_property("brightness") > 52, what="the fade to move")
    await lamp.set_property("on", False)
    await asyncio.wait_for(action.done.wait(), 10)
    assert led.duty_cycle == 0.0
    assert lamp.get_property("brightness") == 100


async def test_bad_writes_change_nothing(lamp: Lamp, led: SimulatedLed, saved: Saved) -> None:
    before = led.duty_cycle
    for bad in (101, -1, "50", 50.5, None):
        with pytest.raises(Exception, match="brightness"):
            await lamp.set_property("brightness", bad)
    assert led.duty_cycle == before
    assert saved.states == []


async def test_close_cancels_a_running_fade(led: SimulatedLed) -> None:
    lamp = await Lamp(led, LampState(on=True, brightness=0), fade_step=0.005).ensure_built()
    action = lamp.perform_action("fade", {"brightness": 100, "duration": 60_000})
    await until(lambda: action.status is ActionStatus.PENDING)
    await lamp.close()
    assert action.status is ActionStatus.CANCELLED
    assert not lamp.tasks


def test_description_is_the_webthings_lamp(led: SimulatedLed) -> None:
    lamp = asyncio.run(Lamp(led).ensure_built())
    assert lamp.type == ["OnOffSwitch", "Light"]
    assert lamp.find_property("on").metadata["@type"] == "OnOffProperty"
    brightness = lamp.find_property("brightness").metadata
    assert brightness["@type"] == "BrightnessProperty"
    assert (brightness["minimum"], brightness["maximum"]) == (0, 100)
    assert "fade" in lamp.available_actions

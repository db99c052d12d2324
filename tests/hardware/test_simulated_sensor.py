from __future__ import annotations

import itertools
import random
import statistics

import pytest

from hardware import HardwareError, Reading, Sensor, SimulatedSensor


def test_same_seed_same_walk() -> None:
    a = SimulatedSensor(random.Random(7))
    b = SimulatedSensor(random.Random(7))
    c = SimulatedSensor(random.Random(8))
    walk_a = [(r.temperature_c, r.humidity_pct) for r in (a.read() for _ in range(50))]
    walk_b = [(r.temperature_c, r.humidity_pct) for r in (b.read() for _ in range(50))]
    walk_c = [(r.temperature_c, r.humidity_pct) for r in (c.read() for _ in range(50))]
    assert walk_a == walk_b
    assert walk_a != walk_c


@pytest.mark.parametrize("seed", range(5))
def test_drifts_plausibly_around_a_quiet_room(seed: int) -> None:
    sensor: Sensor = SimulatedSensor(random.Random(seed))
    readings = [sensor.read() for _ in range(5000)]
    temps = [r.temperature_c for r in readings if r.temperature_c is not None]
    hums = [r.humidity_pct for r in readings if r.humidity_pct is not None]
    assert len(temps) == len(hums) == 5000
    # Pulled back to the room's mean, not a free random walk that wanders to the clamps.
    assert all(19.5 <= t <= 22.5 for t in temps)
    assert all(39.0 <= h <= 51.0 for h in hums)
    assert statistics.mean(temps) == pytest.approx(21.0, abs=0.5)
    assert statistics.mean(hums) == pytest.approx(45.0, abs=2.0)
    # It moves, but gently: no jumps a real room would not make between polls.
    assert len(set(temps)) > 10 and len(set(hums)) > 10
    steps = [abs(a - b) for a, b in itertools.pairwise(temps)]
    assert max(steps) < 1.0
    assert all(r.ok for r in readings)


def test_values_are_rounded_like_a_dht22() -> None:
    reading = SimulatedSensor(random.Random(3)).read()
    assert reading.temperature_c == round(reading.temperature_c or 0.0, 1)
    assert reading.humidity_pct == round(reading.humidity_pct or 0.0, 1)
    assert reading.taken_at is not None and reading.taken_at.tzinfo is not None


def test_told_failures_keep_last_values_then_go_stale_then_recover() -> None:
    sensor = SimulatedSensor(random.Random(2), stale_after=3)
    good = sensor.read()
    sensor.fail(4)
    failed = [sensor.read() for _ in range(4)]
    assert [r.stale for r in failed] == [False, False, True, True]
    for r in failed:
        assert (r.temperature_c, r.humidity_pct, r.taken_at) == (
            good.temperature_c,
            good.humidity_pct,
            good.taken_at,
        )
        assert r.error is not None and "Checksum" in r.error
    recovered = sensor.read()
    assert recovered.ok and recovered.error is None and not recovered.stale


def test_fail_none_fails_until_told_otherwise() -> None:
    sensor = SimulatedSensor(random.Random(2))
    sensor.fail(None)
    readings = [sensor.read() for _ in range(20)]
    assert readings[0] == Reading(None, None, None, stale=True, error=readings[0].error)
    assert all(r.error for r in readings)
    sensor.fail(0)
    assert sensor.read().ok


def test_negative_failures_are_refused_and_close_stops_reads() -> None:
    sensor = SimulatedSensor()
    with pytest.raises(ValueError):
        sensor.fail(-1)
    sensor.close()
    sensor.close()
    with pytest.raises(HardwareError):
        sensor.read()

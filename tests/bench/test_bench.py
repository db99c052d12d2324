"""The bench itself works: a tiny ``--quick`` run, checked for shape, never for timings."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_run_measures_everything(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    command = [
        sys.executable, "-m", "bench", "--quick", "--no-install", "--duration", "1",
        "--connections", "2", "--subscribers", "1,3", "--rounds", "3", "--json", str(out),
    ]  # fmt: skip
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=90)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "targets" in run.stdout
    results = json.loads(out.read_text())
    assert [(r["method"], r["connections"]) for r in results["http"]] == [("GET", 2), ("PUT", 2)]
    for row in results["http"]:
        for name in ("bare", "lamp"):
            assert row[name]["requests"] > 0
            assert row[name]["errors"] == 0
    assert [f["subscribers"] for f in results["fanout"]] == [1, 3]
    assert all(f["rounds"] == 3 for f in results["fanout"])
    for name in ("bare", "lamp"):
        assert results["process"][name]["idle_rss_kib"] > 0
        assert results["process"][name]["startup_ms"] > 0
    assert len(results["targets"]) >= 4


def test_the_mqtt_bench_runs(tmp_path: Path) -> None:
    from tests.broker import INSTALL_HINT, require

    require("mosquitto", INSTALL_HINT, sbin=True)
    out = tmp_path / "mqtt.json"
    command = [
        sys.executable, "-m", "bench.mqtt", "--appliances", "3", "--duration", "1",
        "--write-rate", "30", "--writers", "1", "--outage", "0.2", "--json", str(out),
    ]  # fmt: skip
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=90)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "publish lag" in run.stdout and "latest values in" in run.stdout
    results = json.loads(out.read_text())
    assert results["steady"]["appliances"] == 3
    assert results["steady"]["messages_per_s"] > 0 and results["steady"]["lag_samples"] > 0
    assert results["steady"]["dropped"] == 0
    assert results["outage"]["all_latest_values_s"] >= results["outage"]["all_reconnected_s"] > 0


def _run(get: float, rss_kib: int) -> dict[str, object]:
    """A saved run with only what the webthing-python ratios read."""
    rates = {"lamp": {"rps": get}, "webthing": {"rps": 1000.0}}
    return {
        "http": [{"method": "GET", "connections": 32, **rates}],
        "fanout": [],
        "process": {
            "lamp": {"idle_rss_kib": rss_kib, "startup_ms": 300.0},
            "webthing": {"idle_rss_kib": 40_000, "startup_ms": 150.0},
        },
    }


def test_medians_of_saved_runs_are_judged(tmp_path: Path) -> None:
    """One noisy run does not decide: the median of the runs is judged against the goal."""
    paths = []
    for i, (get, rss) in enumerate([(1300.0, 48_000), (700.0, 49_200), (1100.0, 56_000)]):
        paths.append(tmp_path / f"run{i}.json")
        paths[-1].write_text(json.dumps(_run(get, rss)))
    command = [sys.executable, "-m", "bench.median", *map(str, paths)]
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
    lines = {line.split(" (")[0].split("  ")[0]: line for line in run.stdout.splitlines()}
    get_line = lines["property GET >= 1.0x webthing-python"]
    assert get_line.split()[-2:] == ["1.10x", "met"]  # 1.3, 0.7, 1.1: the median 1.1
    rss_line = lines["idle RSS <= 1.25x webthing-python"]
    assert rss_line.split()[-2:] == ["1.23x", "met"]  # 1.2, 1.23, 1.4
    assert lines["start-up <= 1.0x webthing-python"].split()[-2:] == ["2.00x", "MISSED"]
    assert "not measured" in lines["property PUT >= 1.5x webthing-python"]
    assert run.returncode == 1  # a median missed its goal

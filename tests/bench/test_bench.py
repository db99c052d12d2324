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

"""The soak works: a run of a few seconds with a few clients, checked for shape, never timings."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_short_soak_loses_no_final_value(tmp_path: Path) -> None:
    out = tmp_path / "soak.json"
    command = [
        sys.executable, "-m", "bench.soak", "--duration", "2", "--warmup", "1",
        "--subscribers", "12", "--sse", "4", "--writers", "3", "--stuck", "2",
        "--idle", "0.5", "--json", str(out),
    ]  # fmt: skip
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "lost final values" in run.stdout
    result = json.loads(out.read_text())
    assert result["subscribers"] == {"stuck": 2, "slow": 1, "normal": 9}
    assert result["streams"] == {"stuck": 1, "normal": 3}
    assert result["writes"] > 0 and set(result["write_statuses"]) == {"200"}
    assert result["lost_final_values"] == 0  # every subscriber still there ends on the last value
    assert result["dropped"] == {}  # nobody stopped reading for long: nobody was dropped
    for key in ("rss_cold_mib", "rss_before_mib", "rss_during_max_mib", "rss_after_mib"):
        assert result[key] > 0

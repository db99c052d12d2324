"""``python -m bench.median A.json B.json ...``: the webthing-python ratios of several saved
runs side by side, with their medians judged against the targets.

One run on a shared machine moves 20-40 % with whatever else runs; the median of a few runs
(each saved with ``python -m bench --json``) is the figure to judge.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any

from .report import meets, webthing_ratios


def table(runs: list[dict[str, Any]]) -> tuple[str, bool]:
    """The table, and whether every measured target's median meets its goal."""
    per_run = [webthing_ratios(run) for run in runs]
    lines = [f"{'target':<52} {'runs':<{7 * len(runs)}} {'median':>7}  verdict"]
    lines.append("-" * len(lines[0]))
    all_met = True
    for i, (name, _, goal, higher) in enumerate(per_run[0]):
        ratios = [rows[i][1] for rows in per_run]
        measured = [r for r in ratios if r is not None]
        shown = " ".join(f"{r:>5.2f}x" if r is not None else f"{'-':>6}" for r in ratios)
        if not measured:
            lines.append(f"{name:<52} {shown:<{7 * len(runs)}} {'-':>7}  not measured")
            continue
        median = statistics.median(measured)
        met = meets(median, goal, higher)
        all_met &= met
        verdict = "met" if met else "MISSED"
        lines.append(f"{name:<52} {shown:<{7 * len(runs)}} {median:>6.2f}x  {verdict}")
    return "\n".join(lines), all_met


def main(argv: list[str] | None = None) -> int:
    """Print the table; exit 1 when a median misses its target."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.median",
        description="Medians of the webthing-python ratios over saved bench runs.",
    )
    parser.add_argument("runs", nargs="+", type=Path, help="JSON files of `python -m bench --json`")
    args = parser.parse_args(argv)
    runs = [json.loads(path.read_text()) for path in args.runs]
    missing = [
        str(p) for p, run in zip(args.runs, runs, strict=True) if "webthing" not in run["process"]
    ]
    if missing:
        parser.error(
            f"no webthing-python figures in {', '.join(missing)} (run without --no-webthing)"
        )
    text, all_met = table(runs)
    print(text)
    return 0 if all_met else 1


if __name__ == "__main__":
    sys.exit(main())

"""The bench's results as a table, with the targets marked met or missed."""

from __future__ import annotations

from typing import Any

MIB = 1024


def _fmt(value: float | None, digits: int = 1) -> str:
    if value is None or value != value:  # None or NaN
        return "-"
    return f"{value:,.{digits}f}"


def targets(results: dict[str, Any]) -> list[tuple[str, str, bool | None]]:
    """(target, measured, met) for each target; met is None when it was not measured."""
    rows: list[tuple[str, str, bool | None]] = []
    http = {(r["method"], r["connections"]): r for r in results["http"]}
    most = max((c for m, c in http if m == "GET"), default=0)
    get = http.get(("GET", 32)) or http.get(("GET", most))
    if get:
        ratio = get["lamp"]["rps"] / get["bare"]["rps"]
        name = f"property GET >= 0.9x bare ({get['connections']} conn)"
        rows.append((name, f"{ratio:.2f}x", ratio >= 0.9))
    else:
        rows.append(("property GET >= 0.9x bare", "not run", None))
    if results["fanout"]:
        lost = sum(f["lost"] + f["closed"] for f in results["fanout"])
        rows.append(("zero lost websocket messages", f"{lost} lost", lost == 0))
    else:
        rows.append(("zero lost websocket messages", "not run", None))
    big = next((f for f in results["fanout"] if f["subscribers"] == 200), None)
    if big:
        rows.append(
            ("200-subscriber fan-out p50 < 15 ms", f"{big['p50_ms']:.1f} ms", big["p50_ms"] < 15)
        )
    else:
        rows.append(("200-subscriber fan-out p50 < 15 ms", "not run", None))
    rss = results["process"]["lamp"]["idle_rss_kib"] / MIB
    rows.append(("idle RSS < 40 MiB", f"{rss:.1f} MiB", rss < 40))
    return rows


def webthing_ratios(results: dict[str, Any]) -> list[tuple[str, float | None, float, bool]]:
    """The issue's figures against webthing-python, measured in the same run, as
    ``(target, lamp/webthing-python or None when not measured, goal, higher is better)``."""
    rows: list[tuple[str, float | None, float, bool]] = []
    http = {(r["method"], r["connections"]): r for r in results["http"]}
    for method, goal in (("GET", 1.0), ("PUT", 1.5)):
        most = max((c for m, c in http if m == method), default=0)
        row = http.get((method, 32)) or http.get((method, most))
        name = f"property {method} >= {goal}x webthing-python"
        if row and "webthing" in row:
            ratio = row["lamp"]["rps"] / row["webthing"]["rps"]
            rows.append((f"{name} ({row['connections']} conn)", ratio, goal, True))
        else:
            rows.append((name, None, goal, True))
    big = max(results["fanout"], key=lambda f: f["subscribers"], default=None)
    name = "fan-out p50 <= 1.0x webthing-python"
    if big and "webthing" in big:
        ratio = big["lamp"]["p50_ms"] / big["webthing"]["p50_ms"]
        rows.append((f"{name} ({big['subscribers']})", ratio, 1.0, False))
    else:
        rows.append((name, None, 1.0, False))
    lamp, other = results["process"]["lamp"], results["process"]["webthing"]
    ratio = lamp["idle_rss_kib"] / other["idle_rss_kib"]
    rows.append(("idle RSS <= 1.25x webthing-python", ratio, 1.25, False))
    ratio = lamp["startup_ms"] / other["startup_ms"]
    rows.append(("start-up <= 1.0x webthing-python", ratio, 1.0, False))
    return rows


def meets(ratio: float, goal: float, higher_is_better: bool) -> bool:
    """True if ``ratio`` reaches ``goal``."""
    return ratio >= goal if higher_is_better else ratio <= goal


def webthing_targets(results: dict[str, Any]) -> list[tuple[str, str, bool | None]]:
    """The issue's targets against webthing-python, measured in the same run."""
    return [
        (name, "not run", None) if ratio is None else (name, f"{ratio:.2f}x", meets(ratio, *goal))
        for name, ratio, *goal in webthing_ratios(results)
    ]


def all_targets(results: dict[str, Any]) -> list[tuple[str, str, bool | None]]:
    """The bare-Quart targets, then webthing-python's when it ran."""
    rows = targets(results)
    if "webthing" in results["process"]:
        rows += webthing_targets(results)
    return rows


def _ratio(a: float | None, b: float | None, digits: int = 2) -> str:
    if not a or not b:
        return "-"
    return f"{a / b:.{digits}f}x"


def render(results: dict[str, Any]) -> str:
    """The whole report as text."""
    lines: list[str] = []
    add = lines.append
    meta = results["meta"]
    names = meta.get("servers", ["bare", "lamp"])
    other = "webthing" if "webthing" in names else None
    add(f"client: {meta['client']}")
    for name in names:
        add(f"{name:>8} = {meta['commands'][name]}")
    if meta.get("pinned"):
        pinned = meta["pinned"]
        add(f"pinned: servers on CPU {pinned['servers']}, load on CPU {pinned['load']}")
    load = meta.get("load_average")
    if load:
        add(f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    add("")
    head = (
        f"{'HTTP ' + meta['path']:<28} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'CPU us/req':>10} {'CPU s/10k':>9} {'errors':>6} {'vs bare':>8} {'vs wt':>7}"
    )
    add(head)
    add("-" * len(head))
    for row in results["http"]:
        for name in names:
            r = row[name]
            vs_bare = "" if name == "bare" else _ratio(r["rps"], row["bare"]["rps"])
            vs_wt = "" if name != "lamp" or not other else _ratio(r["rps"], row[other]["rps"])
            cpu = r.get("cpu_us_per_req")
            label = f"{row['method']} {row['connections']:>2} conn  {name}"
            add(
                f"{label:<28} {_fmt(r['rps'], 0):>8} {_fmt(r['p50_ms'], 2):>7} "
                f"{_fmt(r['p99_ms'], 2):>7} {_fmt(cpu, 0):>10} "
                f"{_fmt(cpu / 100 if cpu else None, 2):>9} {r['errors']:>6} {vs_bare:>8} {vs_wt:>7}"
            )
    td = results.get("td") or {}
    for name, r in td.items():
        cpu = r.get("cpu_us_per_req")
        vs_wt = (
            _ratio(r["rps"], td["webthing"]["rps"]) if name == "lamp" and "webthing" in td else ""
        )
        label = f"GET / (TD) 32 conn  {name}"
        add(
            f"{label:<28} {_fmt(r['rps'], 0):>8} {_fmt(r['p50_ms'], 2):>7} "
            f"{_fmt(r['p99_ms'], 2):>7} {_fmt(cpu, 0):>10} "
            f"{_fmt(cpu / 100 if cpu else None, 2):>9} {r['errors']:>6} {'':>8} {vs_wt:>7}"
        )
    add("")
    if results["fanout"]:
        head = (
            f"{'websocket fan-out (PUT -> propertyStatus)':<42} {'rounds':>6} {'p50 ms':>7} "
            f"{'p99 ms':>7} {'max ms':>7} {'lost':>5} {'closed':>6} {'CPU us/chg/sub':>14}"
        )
        add(head)
        add("-" * len(head))
        for row in results["fanout"]:
            for name in ("lamp", "webthing"):
                f = row.get(name, row if name == "lamp" else None)
                if f is None:
                    continue
                label = f"{row['subscribers']:>4} subscribers  {name}"
                add(
                    f"{label:<42} {f['rounds']:>6} {_fmt(f['p50_ms'], 2):>7} "
                    f"{_fmt(f['p99_ms'], 2):>7} {_fmt(f['max_ms'], 2):>7} {f['lost']:>5} "
                    f"{f['closed']:>6} {_fmt(f.get('cpu_us_per_change_per_subscriber'), 1):>14}"
                )
            if other and other in row:
                lamp, them = row["lamp"], row[other]
                add(
                    f"{'':<4} lamp/webthing p50 {_ratio(lamp['p50_ms'], them['p50_ms'])}"
                    f", p99 {_ratio(lamp['p99_ms'], them['p99_ms'])}"
                )
        add("")
    head = (
        f"{'process':<28} {'start-up ms':>11} {'idle RSS MiB':>12} {'RSS after load':>14} "
        f"{'idle wakeups/s':>14}"
    )
    add(head)
    add("-" * len(head))
    for name in names:
        p = results["process"][name]
        add(
            f"{name:<28} {_fmt(p['startup_ms'], 0):>11} {_fmt(p['idle_rss_kib'] / MIB):>12} "
            f"{_fmt(p['loaded_rss_kib'] / MIB if p.get('loaded_rss_kib') else None):>14} "
            f"{_fmt(p.get('idle_wakeups_per_s'), 1):>14}"
        )
    appliance = results.get("appliance")
    if appliance:
        add(
            f"{'appliance (simulated)':<28} {_fmt(appliance['startup_ms'], 0):>11} "
            f"{_fmt(appliance['idle_rss_kib'] / MIB):>12} {'':>14} "
            f"{_fmt(appliance['wakeups_per_s'], 1):>14}"
        )
    lamp = results["process"]["lamp"]
    for name in names:
        if name == "lamp":
            continue
        p = results["process"][name]
        add(
            f"{'lamp/' + name:<28} {_ratio(lamp['startup_ms'], p['startup_ms']):>11} "
            f"{_ratio(lamp['idle_rss_kib'], p['idle_rss_kib']):>12}"
        )
    add("")
    add("targets")
    add("-------")
    for name, measured, met in all_targets(results):
        mark = "not measured" if met is None else ("met" if met else "MISSED")
        add(f"{name:<50} {measured:>12}  {mark}")
    return "\n".join(lines)

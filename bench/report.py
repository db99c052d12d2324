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


def render(results: dict[str, Any]) -> str:
    """The whole report as text."""
    lines: list[str] = []
    add = lines.append
    meta = results["meta"]
    add(f"client: {meta['client']}")
    add(f"servers: lamp = {meta['lamp_cmd']}")
    add(f"         bare = {meta['bare_cmd']}")
    add("")
    head = (
        f"{'HTTP ' + results['meta']['path']:<34} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'CPU us/req':>10} {'errors':>6} {'vs bare':>8}"
    )
    add(head)
    add("-" * len(head))
    for row in results["http"]:
        for name in ("bare", "lamp"):
            r = row[name]
            ratio = "" if name == "bare" else f"{r['rps'] / row['bare']['rps']:.2f}x"
            label = f"{row['method']} {row['connections']:>2} conn  {name}"
            add(
                f"{label:<34} {_fmt(r['rps'], 0):>8} {_fmt(r['p50_ms'], 2):>7} "
                f"{_fmt(r['p99_ms'], 2):>7} {_fmt(r.get('cpu_us_per_req'), 0):>10} "
                f"{r['errors']:>6} {ratio:>8}"
            )
    add("")
    if results["fanout"]:
        head = (
            f"{'websocket fan-out (PUT -> propertyStatus)':<42} {'rounds':>6} {'p50 ms':>7} "
            f"{'p99 ms':>7} {'max ms':>7} {'lost':>5} {'closed':>6}"
        )
        add(head)
        add("-" * len(head))
        for f in results["fanout"]:
            label = f"{f['subscribers']:>4} subscribers"
            add(
                f"{label:<42} {f['rounds']:>6} {_fmt(f['p50_ms'], 2):>7} "
                f"{_fmt(f['p99_ms'], 2):>7} {_fmt(f['max_ms'], 2):>7} {f['lost']:>5} "
                f"{f['closed']:>6}"
            )
        add("")
    head = f"{'process':<34} {'start-up ms':>11} {'idle RSS MiB':>12} {'RSS after load':>14}"
    add(head)
    add("-" * len(head))
    for name in ("bare", "lamp"):
        p = results["process"][name]
        add(
            f"{name:<34} {_fmt(p['startup_ms'], 0):>11} {_fmt(p['idle_rss_kib'] / MIB):>12} "
            f"{_fmt(p['loaded_rss_kib'] / MIB if p.get('loaded_rss_kib') else None):>14}"
        )
    bare, lamp = results["process"]["bare"], results["process"]["lamp"]
    add(
        f"{'lamp/bare':<34} {lamp['startup_ms'] / bare['startup_ms']:>10.2f}x "
        f"{lamp['idle_rss_kib'] / bare['idle_rss_kib']:>11.2f}x"
    )
    add("")
    add("targets")
    add("-------")
    for name, measured, met in targets(results):
        mark = "not measured" if met is None else ("met" if met else "MISSED")
        add(f"{name:<44} {measured:>12}  {mark}")
    return "\n".join(lines)

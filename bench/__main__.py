"""``python -m bench``: the lamp example against a bare Quart endpoint, in one run.

Starts ``examples/single_thing.py`` and ``bench.bare`` on free loopback ports, then measures
property GET and PUT (wrk, or an asyncio client in its own process), websocket fan-out to
1/50/200 subscribers, idle RSS and start-up time, and prints the ratios and targets.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import shlex
import statistics
import sys
import time
from collections.abc import Coroutine
from dataclasses import asdict
from pathlib import Path
from typing import Any, TypeVar

from . import fanout, http_load, webthing_env
from .idle import appliance_wakeups, wakeups_per_s
from .report import all_targets, render
from .servers import PATH, Server, pin_cores

LAMP_CMD = (
    f"{sys.executable} examples/single_thing.py --host 127.0.0.1 --port {{port}} --no-discovery"
)
# The bare endpoint runs on the loop WebThingServer.run picks: uvloop when installed.
BARE_CMD = f"{sys.executable} -m bench.bare --port {{port}}" + (
    " --loop uvloop" if importlib.util.find_spec("uvloop") else ""
)
T = TypeVar("T")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a short run (about 20 s)")
    parser.add_argument("--json", metavar="FILE", type=Path, help="also save the results here")
    parser.add_argument("--duration", type=float, help="seconds per HTTP load run (default 5)")
    parser.add_argument("--rounds", type=int, help="PUTs per fan-out run (default 100)")
    parser.add_argument(
        "--connections", default="1,32", help="HTTP connection counts (default 1,32)"
    )
    parser.add_argument(
        "--subscribers", default="1,50,200", help="websocket subscriber counts (default 1,50,200)"
    )
    parser.add_argument(
        "--client",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="HTTP load generator: wrk (installed with apt-get when missing, as root), "
        "the asyncio client, or auto (wrk when available, else the client)",
    )
    parser.add_argument("--no-install", action="store_true", help="never apt-get install wrk")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="HTTP runs per server, alternating bare and lamp; the fastest counts (default 1)",
    )
    parser.add_argument("--startups", type=int, help="start-ups to time, median shown (default 3)")
    parser.add_argument("--lamp-cmd", default=LAMP_CMD, help="the lamp's command ({port})")
    parser.add_argument("--bare-cmd", default=BARE_CMD, help="the bare endpoint's command ({port})")
    parser.add_argument(
        "--webthing-cmd",
        help="webthing-python's lamp command ({port}); default: bench/webthing_lamp.py in the "
        "venv the bench makes (bench/.venv-webthing, pip install webthing==0.15.0)",
    )
    parser.add_argument(
        "--no-webthing", action="store_true", help="leave webthing-python out of the run"
    )
    parser.add_argument(
        "--idle", type=float, help="seconds to count idle wakeups over (default 10, quick 2)"
    )
    parser.add_argument(
        "--no-pin", action="store_true", help="do not pin servers and load generator to cores"
    )
    args = parser.parse_args(argv)
    args.duration = args.duration or (1.0 if args.quick else 5.0)
    args.rounds = args.rounds or (10 if args.quick else 100)
    args.startups = args.startups or (1 if args.quick else 3)
    args.idle = args.idle or (2.0 if args.quick else 10.0)
    args.warmup = min(1.0, args.duration)
    return args


def _counts(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def choose_client(args: argparse.Namespace) -> tuple[Any, str]:
    """The load function and a sentence saying which generator it is."""
    if args.client != "python":
        wrk, how = http_load.ensure_wrk(allow_install=not args.no_install)
        if wrk:

            def load(url: str, method: str, connections: int, duration: float) -> Any:
                return http_load.run_wrk(wrk, url, method, connections, duration)

            return load, f"wrk, 1 thread, keep-alive, Lua script for the PUT ({how})"
        if args.client == "wrk":
            raise SystemExit(f"{how}; install wrk or pass --client python")
        return http_load.run_client, f"asyncio client in its own process ({how})"
    return http_load.run_client, "asyncio client in its own process (--client python)"


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` on uvloop when installed (a lighter client), else on asyncio."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coro)


def start(server: Server, times: int) -> None:
    """Start ``server`` ``times`` times (timing each), leaving the last one running."""
    for attempt in range(times):
        server.start()
        if attempt < times - 1:
            server.stop()


def main(argv: list[str] | None = None) -> int:
    """Run the bench; 0 when it ran (targets missed are reported, not failed)."""
    args = parse_args(argv)
    server_core, client_core = (None, None) if args.no_pin else pin_cores()
    load, client = choose_client(args)
    print(f"HTTP load: {client}", flush=True)
    commands = {"bare": args.bare_cmd, "lamp": args.lamp_cmd}
    webthing_note = "left out (--no-webthing)"
    if not args.no_webthing:
        if args.webthing_cmd:
            commands["webthing"], webthing_note = args.webthing_cmd, "--webthing-cmd"
        else:
            python, webthing_note = webthing_env.ensure_webthing()
            if python:
                commands["webthing"] = webthing_env.command(python)
            else:
                print(f"\n*** webthing-python LEFT OUT: {webthing_note} ***\n", flush=True)
    print(f"webthing-python: {webthing_note}", flush=True)
    if server_core is not None:
        print(f"servers pinned to CPU {server_core}, load generator to CPU {client_core}")
    servers = {
        name: Server(name, shlex.split(command), core=server_core)
        for name, command in commands.items()
    }
    results: dict[str, Any] = {
        "meta": {
            "client": client,
            "servers": list(servers),
            "commands": {k: v.replace(sys.executable, "python") for k, v in commands.items()},
            "lamp_cmd": args.lamp_cmd.replace(sys.executable, "python"),
            "bare_cmd": args.bare_cmd.replace(sys.executable, "python"),
            "webthing": webthing_note,
            "pinned": None
            if server_core is None
            else {"servers": server_core, "load": client_core},
            "path": PATH,
            "duration_s": args.duration,
            "quick": args.quick,
            "load_average": list(os.getloadavg()),
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        },
        "http": [],
        "fanout": [],
        "process": {},
    }
    try:
        for server in servers.values():
            start(server, args.startups)
        urls = {name: f"http://127.0.0.1:{s.port}{PATH}" for name, s in servers.items()}
        for name in servers:
            load(urls[name], "GET", 32, args.warmup)
            load(urls[name], "PUT", 32, args.warmup)
        time.sleep(1.0)  # idle: let the warm-up's garbage go
        print(f"  idle wakeups over {args.idle:g} s ...", flush=True)
        idle = wakeups_per_s([s.pid for s in servers.values()], args.idle)
        for (name, server), wakeups in zip(servers.items(), idle, strict=True):
            results["process"][name] = {
                "startup_ms": statistics.median(server.startup_s) * 1000,
                "startup_all_ms": [s * 1000 for s in server.startup_s],
                "idle_rss_kib": server.rss_kib(),
                "idle_wakeups_per_s": wakeups,
            }
        for method in ("GET", "PUT"):
            for connections in _counts(args.connections):
                row: dict[str, Any] = {"method": method, "connections": connections}
                for _ in range(args.repeat):
                    for name, server in servers.items():
                        print(f"  {method} {connections} conn {name} ...", flush=True)
                        cpu = server.cpu_s()
                        result = asdict(load(urls[name], method, connections, args.duration))
                        result["cpu_us_per_req"] = (
                            (server.cpu_s() - cpu) / result["requests"] * 1e6
                            if result["requests"]
                            else None
                        )
                        # On a shared machine noise only ever slows a run: keep the fastest.
                        if name not in row or result["rps"] > row[name]["rps"]:
                            row[name] = result
                results["http"].append(row)
        # The Thing Description, every client's first request (the bare route has none).
        results["td"] = {}
        for _ in range(args.repeat):
            for name in ("lamp", "webthing"):
                if name not in servers:
                    continue
                print(f"  GET / (the TD) 32 conn {name} ...", flush=True)
                cpu = servers[name].cpu_s()
                url = f"http://127.0.0.1:{servers[name].port}/"
                result = asdict(load(url, "GET", 32, args.duration))
                result["cpu_us_per_req"] = (
                    (servers[name].cpu_s() - cpu) / result["requests"] * 1e6
                    if result["requests"]
                    else None
                )
                best = results["td"].get(name)
                if best is None or result["rps"] > best["rps"]:
                    results["td"][name] = result
        for count in _counts(args.subscribers):
            row = {"subscribers": count}
            for name in ("lamp", "webthing"):
                if name not in servers:
                    continue
                print(f"  fan-out to {count} subscribers {name} ...", flush=True)
                cpu = servers[name].cpu_s()
                spread = asdict(run_async(fanout.fanout(servers[name].port, count, args.rounds)))
                used = servers[name].cpu_s() - cpu
                spread["cpu_us_per_change_per_subscriber"] = used / (args.rounds * count) * 1e6
                row[name] = spread
            # the lamp's figures stay at the top level, as before
            results["fanout"].append({**row["lamp"], **row})
        for name, server in servers.items():
            results["process"][name]["loaded_rss_kib"] = server.rss_kib()
    finally:
        for server in servers.values():
            server.stop()
    print(f"  the appliance's idle wakeups over {args.idle:g} s ...", flush=True)
    results["appliance"] = appliance_wakeups(args.idle, core=server_core)
    results["targets"] = [
        {"target": name, "measured": measured, "met": met}
        for name, measured, met in all_targets(results)
    ]
    results["meta"]["load_average_after"] = list(os.getloadavg())
    print()
    print(render(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
        print(f"\nsaved {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

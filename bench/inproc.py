"""Per-request cost of the ASGI apps alone, no Hypercorn, no sockets: ``python -m bench.inproc``.

Calls the lamp's app and the bare app directly with ASGI messages, so the number is CPU time
of the app's own code (Quart, the front door, the route) and barely moves with machine load.
Use it to compare before and after a change to a hot path; ``python -m bench`` is the real thing.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import time
from pathlib import Path
from typing import Any

from .bare import create_app as bare_app
from .servers import PATH

ROOT = Path(__file__).resolve().parents[1]


def lamp_app() -> Any:
    """The app ``examples/single_thing.py`` serves (mDNS off)."""
    spec = importlib.util.spec_from_file_location("_bench_lamp", ROOT / "examples/single_thing.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.make_server(discovery=False, host="127.0.0.1", port=8888).create()


def scope(method: str, body: bytes) -> dict[str, Any]:
    """An HTTP scope as Hypercorn builds it."""
    headers = [(b"host", b"127.0.0.1:8888"), (b"user-agent", b"bench")]
    if body:
        headers += [(b"content-type", b"application/json"), (b"content-length", b"18")]
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": PATH,
        "raw_path": PATH.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8888),
        "extensions": {},
        "state": {},
    }


async def measure(app: Any, method: str, count: int) -> float:
    """Microseconds per request, over ``count`` requests."""
    body = b'{"brightness": 50}' if method == "PUT" else b""
    statuses: list[int] = []

    never = asyncio.Event()

    def receiver() -> Any:
        messages = [{"type": "http.request", "body": body, "more_body": False}]

        async def receive() -> dict[str, Any]:
            if messages:
                return messages.pop()
            await never.wait()  # the client stays connected; Quart cancels this wait
            raise AssertionError

        return receive

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    for _ in range(min(200, count)):  # warm-up
        await app(scope(method, body), receiver(), send)
    statuses.clear()
    started = time.perf_counter()
    for _ in range(count):
        await app(scope(method, body), receiver(), send)
    elapsed = time.perf_counter() - started
    assert set(statuses) == {200}, statuses[:5]
    return elapsed / count * 1e6


async def run(count: int, repeat: int) -> None:
    """Print the per-request cost of GET and PUT on both apps, best of ``repeat``."""
    apps = {"bare": bare_app(), "lamp": lamp_app()}
    for app in apps.values():
        await app.startup()
    print(f"{'in-process, us/request':<24} {'bare':>8} {'lamp':>8} {'lamp/bare':>10}")
    for method in ("GET", "PUT"):
        best = {name: min([await measure(app, method, count) for _ in range(repeat)])
                for name, app in apps.items()}  # fmt: skip
        ratio = best["lamp"] / best["bare"]
        print(f"{method:<24} {best['bare']:>8.1f} {best['lamp']:>8.1f} {ratio:>9.2f}x")
    for app in apps.values():
        await app.shutdown()


def main() -> None:
    """Parse the command line and measure."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=5000, help="requests per measurement")
    parser.add_argument("--repeat", type=int, default=5, help="measurements; the best counts")
    args = parser.parse_args()
    asyncio.run(run(args.count, args.repeat))


if __name__ == "__main__":
    main()

"""HTTP load: wrk (with a Lua script for the PUT and the summary), or an asyncio client.

The fallback client runs in its own process (``python -m bench.http_load URL ...``) so that it
never shares an event loop with anything it measures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

# wrk calls done() once at the end; it prints one JSON line the bench picks out.
WRK_SCRIPT = """
wrk.method = "{method}"
{body}
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, '
    .. '"errors": %d, "non2xx": %d}}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
"""
PUT_BODY = '{"brightness": 50}'


@dataclass
class LoadResult:
    """Throughput and latency of one load run."""

    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


def ensure_wrk(allow_install: bool = True) -> tuple[str | None, str]:
    """The path to wrk (installing Debian's package when missing and root), and what happened."""
    found = shutil.which("wrk")
    if found:
        return found, "wrk found"
    if not allow_install or os.geteuid() != 0 or not shutil.which("apt-get"):
        return None, "wrk missing"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "wrk"]):
        result = subprocess.run(command, env=env, capture_output=True, timeout=300, check=False)
        if result.returncode != 0:
            return None, "wrk missing; apt-get install wrk failed"
    found = shutil.which("wrk")
    return found, ("wrk installed with apt-get" if found else "wrk missing after apt-get")


def run_wrk(wrk: str, url: str, method: str, connections: int, duration: float) -> LoadResult:
    """One wrk run: one thread (the server needs the other core), ``connections`` connections."""
    body = ""
    if method == "PUT":
        body = f'wrk.body = \'{PUT_BODY}\'\nwrk.headers["Content-Type"] = "application/json"'
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(WRK_SCRIPT.format(method=method, body=body))
        script.flush()
        command = [
            wrk, "-t1", f"-c{connections}", f"-d{max(1, round(duration))}s",
            "--timeout", "5s", "-s", script.name, url,
        ]  # fmt: skip
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("BENCH "))
    data = json.loads(line[len("BENCH ") :])
    seconds = data["duration_us"] / 1e6
    return LoadResult(
        requests=data["requests"],
        seconds=seconds,
        rps=data["requests"] / seconds,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        errors=data["errors"] + data["non2xx"],
    )


def run_client(url: str, method: str, connections: int, duration: float) -> LoadResult:
    """One run of the asyncio fallback client, in a child process."""
    command = [
        sys.executable, "-m", "bench.http_load", url, "--method", method,
        "--connections", str(connections), "--duration", str(duration),
    ]  # fmt: skip
    cwd = Path(__file__).resolve().parents[1]
    out = subprocess.run(command, capture_output=True, text=True, check=True, cwd=cwd).stdout
    return LoadResult(**json.loads(out))


# -- the fallback client ---------------------------------------------------------------


async def _connection(
    host: str, port: int, request: bytes, until: float, latencies: list[float]
) -> int:
    errors = 0
    while time.perf_counter() < until:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            errors += await _requests(reader, writer, request, until, latencies)
        except asyncio.IncompleteReadError:
            # The server ended this keep-alive connection (Hypercorn closes one after
            # keep_alive_max_requests); open the next, as wrk does.
            pass
        finally:
            writer.close()
    return errors


async def _requests(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    request: bytes,
    until: float,
    latencies: list[float],
) -> int:
    errors = 0
    while time.perf_counter() < until:
        started = time.perf_counter()
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if length:
            await reader.readexactly(length)
        latencies.append(time.perf_counter() - started)
        if not head.startswith(b"HTTP/1.1 2"):
            errors += 1
    return errors


async def _load(url: str, method: str, connections: int, duration: float) -> LoadResult:
    rest = url.split("://", 1)[1]
    hostport, _, path = rest.partition("/")
    host, _, port = hostport.partition(":")
    body = PUT_BODY.encode() if method == "PUT" else b""
    request = (
        f"{method} /{path} HTTP/1.1\r\nHost: {hostport}\r\n"
        + (f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n" if body else "")
        + "\r\n"
    ).encode() + body
    latencies: list[float] = []
    started = time.perf_counter()
    until = started + duration
    errors = await asyncio.gather(
        *(_connection(host, int(port), request, until, latencies) for _ in range(connections))
    )
    seconds = time.perf_counter() - started
    latencies.sort()
    n = len(latencies)
    return LoadResult(
        requests=n,
        seconds=seconds,
        rps=n / seconds,
        p50_ms=latencies[n // 2] * 1000 if n else 0.0,
        p99_ms=latencies[min(n - 1, int(n * 0.99))] * 1000 if n else 0.0,
        errors=sum(errors),
    )


def main() -> None:
    """Run the fallback client and print its result as JSON."""
    parser = argparse.ArgumentParser(description="A small keep-alive HTTP load generator.")
    parser.add_argument("url")
    parser.add_argument("--method", default="GET", choices=("GET", "PUT"))
    parser.add_argument("--connections", type=int, default=1)
    parser.add_argument("--duration", type=float, default=5.0)
    args = parser.parse_args()
    try:
        import uvloop

        runner = asyncio.Runner(loop_factory=uvloop.new_event_loop)
    except ImportError:
        runner = asyncio.Runner()
    with runner:
        result = runner.run(_load(args.url, args.method, args.connections, args.duration))
    print(json.dumps(asdict(result)))


if __name__ == "__main__":
    main()

"""``python -m bench.soak``: everything at once for a minute, against the lamp in its own process.

200 websocket subscribers (a tenth read slowly, a few stop reading altogether), SSE observers
(likewise), and 32 HTTP writers PUTting the brightness as fast as they are answered. A probe
writes a value of its own every 200 ms and times its arrival at every subscriber that gets it
(one behind may get a newer value instead: property status is state, conflated). At the end
the writers stop, the probe writes one final value, and every subscriber still connected must
end on it; one that does not is a *lost final value* (goal: 0). Then the clients leave and the
server idles. RSS is sampled before, during and after (goal: back within 10 % of before).

    python -m bench.soak                      # the lamp example, a minute
    python -m bench.soak --appliance          # `appliance serve` (simulated parts) instead
    python -m bench.soak --duration 5 --subscribers 20 --sse 4 --writers 4   # a smoke run
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import re
import shlex
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, cast

from .fanout import Writer, percentile, read_frames
from .servers import Server

LAMP_CMD = [
    sys.executable, "examples/single_thing.py", "--host", "127.0.0.1", "--port", "{port}",
    "--no-discovery",
]  # fmt: skip
APPLIANCE_CMD = [
    sys.executable, "-m", "appliance.cli", "serve", "--hardware", "simulated", "--host",
    "127.0.0.1", "--port", "{port}", "--no-discovery", "--state-dir", "{state}",
]  # fmt: skip
WRITER_VALUES = range(0, 90)  # the writers' values; the probe's are 90-100
PROBE_VALUES = range(90, 101)
PROBE_INTERVAL = 0.2
SETTLE = 10.0  # seconds every live subscriber has to reach the final value
CLIENT_ADDRESSES = 50  # the clients come from 127.0.0.2 to 127.0.0.51
_DATA = re.compile(rb"data: (\d+)\n")


@dataclass
class Probe:
    """The probe's latest write: value, when it was sent, and its number."""

    value: int = -1
    sent: float = 0.0
    index: int = -1


class Watcher(asyncio.Protocol):
    """A subscriber (websocket or SSE) that records the brightness values it gets.

    ``mode`` is ``normal`` (reads everything), ``slow`` (reads a fifth of the time) or
    ``stuck`` (stops reading after the handshake until told to resume).
    """

    def __init__(self, probe: Probe, mode: str, request: bytes) -> None:
        self.probe = probe
        self.mode = mode
        self.request = request
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closed = False
        self.close_code: int | None = None
        self.last: int | None = None
        self.delays: dict[int, float] = {}  # probe index -> delay
        self._pausing: asyncio.Task[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is no subclass
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.opened.done():
            head, sep, rest = self.buffer.partition(b"\r\n\r\n")
            if not sep:
                return
            if not (head.startswith(b"HTTP/1.1 101") or head.startswith(b"HTTP/1.1 200")):
                self.opened.set_exception(ConnectionError(head[:80].decode(errors="replace")))
                return
            self.buffer = rest
            self.opened.set_result(None)
            if self.mode == "stuck":
                self.transport.pause_reading()  # type: ignore[union-attr]
            elif self.mode == "slow":
                self._pausing = asyncio.ensure_future(self._read_slowly())
        self._parse(time.perf_counter())

    def _parse(self, now: float) -> None:
        raise NotImplementedError

    def seen(self, value: int, now: float) -> None:
        """Record a brightness value that arrived at ``now``."""
        self.last = value
        probe = self.probe
        if value == probe.value and probe.index not in self.delays:
            self.delays[probe.index] = now - probe.sent

    async def _read_slowly(self) -> None:
        assert self.transport is not None
        while not self.closed:
            await asyncio.sleep(0.1)
            self.transport.pause_reading()
            await asyncio.sleep(0.4)
            self.transport.resume_reading()

    def resume(self) -> None:
        """Read everything from now on."""
        if self._pausing is not None:
            self._pausing.cancel()
        if self.transport is not None and not self.closed:
            self.transport.resume_reading()
        self.mode = "resumed"

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.opened.done():
            self.opened.set_exception(exc or ConnectionError("closed during the handshake"))

    def close(self) -> None:
        """Leave."""
        if self._pausing is not None:
            self._pausing.cancel()
        if self.transport is not None:
            self.transport.close()


class WsWatcher(Watcher):
    """A websocket subscriber of the lamp's propertyStatus messages."""

    def _parse(self, now: float) -> None:
        frames, self.buffer = read_frames(self.buffer)
        for opcode, payload in frames:
            if opcode == 1 and b"propertyStatus" in payload:
                value = json.loads(payload)["data"].get("brightness")
                if isinstance(value, int):
                    self.seen(value, now)
            elif opcode == 8:
                self.close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else None


class SseWatcher(Watcher):
    """An SSE observer of the brightness (``wot/sse/properties/brightness``)."""

    def _parse(self, now: float) -> None:
        # Each event is one chunk of the chunked body; values are the `data:` lines. The last
        # chunk (size 0) means the server ended the stream: dropped, as a closed socket is.
        if b"\r\n0\r\n\r\n" in self.buffer:
            self.closed = True
        end = self.buffer.rfind(b"\n\n")
        if end < 0:
            return
        for match in _DATA.finditer(self.buffer, 0, end + 2):
            self.seen(int(match[1]), now)
        self.buffer = self.buffer[end + 2 :]


def ws_request(host: str, path: str) -> bytes:
    key = base64.b64encode(os.urandom(16)).decode()
    return (
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ).encode()


def sse_request(host: str, path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n\r\n".encode()


@dataclass
class SoakResult:
    """What a soak run measured."""

    duration_s: float
    subscribers: dict[str, int]
    streams: dict[str, int]
    writes: int
    writes_per_s: float
    write_statuses: dict[str, int]
    write_p99_ms: float
    probe_writes: int
    delay_p50_ms: float
    delay_p99_ms: float
    slow_delay_p99_ms: float
    lost_final_values: int
    dropped: dict[str, int]
    rss_before_mib: float  # idle, after the warm-up round
    rss_during_max_mib: float
    rss_after_mib: float  # idle again, the clients gone
    rss_after_vs_before: float
    rss_cold_mib: float = 0.0  # idle, just started
    rss_after_rounds_mib: list[float] = field(default_factory=list)  # after each further round


def modes(count: int, slow: float, stuck: int) -> list[str]:
    """``count`` modes: ``stuck`` of them stuck, a ``slow`` share slow, the rest normal."""
    slow_count = round(count * slow)
    stuck = min(stuck, count - slow_count)
    return ["stuck"] * stuck + ["slow"] * slow_count + ["normal"] * (count - slow_count - stuck)


async def soak(server: Server, args: argparse.Namespace, prefix: str) -> SoakResult:
    """A short warm-up round (every code path run once, its one-time memory taken), then the
    measured round, then ``args.rounds - 1`` more to see whether memory keeps growing."""
    cold = server.rss_kib() / 1024
    await load(server, args, prefix, min(args.warmup, args.duration))
    result = await load(server, args, prefix, args.duration)
    result.rss_cold_mib = round(cold, 1)
    for _ in range(args.rounds - 1):
        again = await load(server, args, prefix, args.duration)
        result.rss_after_rounds_mib.append(again.rss_after_mib)
        result.lost_final_values += again.lost_final_values
    return result


async def load(
    server: Server, args: argparse.Namespace, prefix: str, duration: float
) -> SoakResult:
    """One round: connect every client, load for ``duration`` s, check, leave, idle."""
    loop = asyncio.get_running_loop()
    port = server.port
    host = f"127.0.0.1:{port}"
    probe = Probe()
    rng = random.Random(1)
    samples: list[float] = []
    path = f"{prefix}/properties/brightness"
    rss_before = server.rss_kib() / 1024

    async def open_watchers(kind: type[Watcher], request: bytes, kinds: list[str]) -> list[Any]:
        made: list[Watcher] = []
        for start in range(0, len(kinds), 50):  # a finite backlog: 50 at a time
            group = await asyncio.gather(
                *(
                    loop.create_connection(
                        lambda m=mode: kind(probe, m, request),
                        "127.0.0.1",
                        port,
                        # Subscribers on many machines, as in a home: the server caps each
                        # client address (32 websockets by default).
                        local_addr=(f"127.0.0.{2 + (start + i) % CLIENT_ADDRESSES}", 0),
                    )
                    for i, mode in enumerate(kinds[start : start + 50])
                )
            )
            watchers = [protocol for _, protocol in group]
            await asyncio.wait_for(asyncio.gather(*(w.opened for w in watchers)), 30)
            made.extend(watchers)
        return made

    sockets = await open_watchers(
        WsWatcher,
        ws_request(host, prefix or "/"),
        modes(args.subscribers, args.slow, args.stuck),
    )
    streams = await open_watchers(
        SseWatcher,
        sse_request(host, f"{prefix}/wot/sse/properties/brightness"),
        modes(args.sse, args.slow, max(1, args.stuck // 2) if args.sse > 2 else 0),
    )
    watchers: list[Watcher] = [*sockets, *streams]
    writers = [Writer(port, path) for _ in range(args.writers)]
    prober = Writer(port, path)
    stop = asyncio.Event()

    async def write(writer: Writer) -> None:
        while not stop.is_set():
            await writer.put(rng.choice(WRITER_VALUES))

    async def write_probes() -> None:
        index = 0
        while not stop.is_set():
            value = PROBE_VALUES[index % len(PROBE_VALUES)]
            # Set before the PUT: the first subscribers may hear it before the answer comes.
            probe.value, probe.index, probe.sent = value, index, time.perf_counter()
            await prober.put(value)
            index += 1
            await asyncio.sleep(PROBE_INTERVAL)

    async def sample() -> None:
        while not stop.is_set():
            samples.append(server.rss_kib() / 1024)
            await asyncio.sleep(1.0)

    began = time.perf_counter()
    tasks = [asyncio.ensure_future(write(w)) for w in writers]
    tasks += [asyncio.ensure_future(write_probes()), asyncio.ensure_future(sample())]
    await asyncio.sleep(duration)
    stop.set()
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - began

    # The final value: every subscriber still connected must end on it.
    final = PROBE_VALUES[(probe.index + 1) % len(PROBE_VALUES)]
    probe.value, probe.index, probe.sent = final, probe.index + 1, time.perf_counter()
    await prober.put(final)
    for watcher in watchers:
        if watcher.mode == "stuck":
            watcher.resume()  # they read again: those the server kept must catch up too
    deadline = time.perf_counter() + SETTLE
    while time.perf_counter() < deadline:
        if all(w.closed or w.last == final for w in watchers):
            break
        await asyncio.sleep(0.05)
    lost = sum(1 for w in watchers if not w.closed and w.last != final)
    samples.append(server.rss_kib() / 1024)

    dropped: dict[str, int] = {}
    for watcher in watchers:
        if watcher.closed:
            kind = "ws" if isinstance(watcher, WsWatcher) else "sse"
            key = f"{kind} {watcher.mode if watcher.mode != 'resumed' else 'stuck'}"
            dropped[key] = dropped.get(key, 0) + 1
    normal_delays = [d for w in watchers if w.mode == "normal" for d in w.delays.values()]
    slow_delays = [d for w in watchers if w.mode == "slow" for d in w.delays.values()]
    writes = sum(sum(w.statuses.values()) for w in writers)
    statuses: dict[str, int] = {}
    for writer in [*writers, prober]:
        for status, count in writer.statuses.items():
            statuses[str(status)] = statuses.get(str(status), 0) + count
    latencies = [lat for w in writers for lat in w.latencies]

    for watcher in watchers:
        watcher.close()
    for writer in [*writers, prober]:
        writer.close()
    await asyncio.sleep(args.idle)  # the clients have left; the server idles
    rss_after = server.rss_kib() / 1024

    def count(items: list[Watcher]) -> dict[str, int]:
        found: dict[str, int] = {}
        for item in items:
            mode = "stuck" if item.mode == "resumed" else item.mode
            found[mode] = found.get(mode, 0) + 1
        return found

    return SoakResult(
        duration_s=round(elapsed, 1),
        subscribers=count(sockets),
        streams=count(streams),
        writes=writes,
        writes_per_s=round(writes / elapsed, 1),
        write_statuses=statuses,
        write_p99_ms=round(percentile(latencies, 99) * 1000, 1),
        probe_writes=probe.index + 1,
        delay_p50_ms=round(percentile(normal_delays, 50) * 1000, 1),
        delay_p99_ms=round(percentile(normal_delays, 99) * 1000, 1),
        slow_delay_p99_ms=round(percentile(slow_delays, 99) * 1000, 1),
        lost_final_values=lost,
        dropped=dropped,
        rss_before_mib=round(rss_before, 1),
        rss_during_max_mib=round(max(samples), 1),
        rss_after_mib=round(rss_after, 1),
        rss_after_vs_before=round(rss_after / rss_before, 3),
    )


def render(result: SoakResult) -> str:
    """The result as a few lines of text."""
    r = result
    return "\n".join(
        [
            f"soak: {r.duration_s} s; websockets {r.subscribers}, SSE streams {r.streams}",
            f"writes: {r.writes:,} ({r.writes_per_s:,.0f}/s), statuses {r.write_statuses}, "
            f"p99 {r.write_p99_ms} ms",
            f"probe ({r.probe_writes} writes) to arrival: p50 {r.delay_p50_ms} ms, "
            f"p99 {r.delay_p99_ms} ms (slow readers p99 {r.slow_delay_p99_ms} ms)",
            f"lost final values: {r.lost_final_values} (goal 0)",
            f"dropped by the server: {r.dropped or 'none'}",
            f"RSS MiB: started {r.rss_cold_mib}, before (warmed up) {r.rss_before_mib}, "
            f"during (max) {r.rss_during_max_mib}, after {r.rss_after_mib} "
            f"({(r.rss_after_vs_before - 1) * 100:+.1f} %; goal within 10 %)"
            + (f", after more rounds {r.rss_after_rounds_mib}" if r.rss_after_rounds_mib else ""),
        ]
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load (60)")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds of warm-up (5)")
    parser.add_argument("--rounds", type=int, default=1, help="measured rounds (1)")
    parser.add_argument(
        "--idle", type=float, default=5.0, help="seconds idle before RSS is read after a round (5)"
    )
    parser.add_argument("--subscribers", type=int, default=200, help="websockets (200)")
    parser.add_argument("--sse", type=int, default=20, help="SSE streams (20)")
    parser.add_argument("--writers", type=int, default=32, help="HTTP writers (32)")
    parser.add_argument("--slow", type=float, default=0.1, help="share of slow readers (0.1)")
    parser.add_argument("--stuck", type=int, default=4, help="websockets that stop reading (4)")
    parser.add_argument("--appliance", action="store_true", help="soak `appliance serve`")
    parser.add_argument(
        "--command", help="soak this server command instead ({port}; e.g. an older checkout)"
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="also save the result here")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Start the server, soak it, print (and save) what happened."""
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="soak-state-") as state:
        template = APPLIANCE_CMD if args.appliance else LAMP_CMD
        if args.command:
            template = shlex.split(args.command)
        command = [part.replace("{state}", state) for part in template]
        prefix = "/0" if args.appliance else ""
        name = "appliance" if args.appliance else "lamp"
        server = Server(name, command, ready_path=f"{prefix}/properties/brightness")
        server.start()
        try:
            time.sleep(1.0)  # idle a moment: the start-up's garbage goes
            result = _run(soak(server, args, prefix))
        finally:
            server.stop()
    print(render(result))
    if args.json:
        args.json.write_text(json.dumps(asdict(result), indent=2) + "\n")
    return 0


def _run(coro: Any) -> SoakResult:
    try:
        import uvloop
    except ImportError:
        return cast(SoakResult, asyncio.run(coro))
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return cast(SoakResult, runner.run(coro))


if __name__ == "__main__":
    raise SystemExit(main())

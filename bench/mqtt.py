"""``python -m bench.mqtt``: a fleet of appliances on one broker, in one process.

Starts Mosquitto on a free loopback port and N appliances' worth of things (the real lamp and
sensor on simulated parts, each appliance with its own bridge and connection), a subscriber
on every topic, and writer clients that set lamp brightnesses at a steady rate. Measures:

- messages per second the subscriber receives, and the writes per second that went in;
- publish lag: from a property changing (an observer stamps it) to the subscriber receiving
  that value (p50/p99; values superseded before they were sent are not counted);
- broker-outage recovery: the broker is stopped for ``--outage`` seconds while every lamp
  changes locally (as the page or a gateway would), then restarted; the time from the broker
  listening again to every bridge being connected, and to the subscriber having every
  lamp's latest value. The bridges' default backoff (0.5 s doubling, jittered) is part of it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import resource
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiomqtt
import msgspec

from appliance.lamp import Lamp
from appliance.sensor import Sensor
from hardware import SimulatedLed, SimulatedSensor
from thingtalk import Action, Event, Property, Thing
from thingtalk.mqtt import MqttBridge, MqttSettings
from thingtalk.things import MultipleThings

# The bench's own clients disable Nagle's algorithm like the bridge does, so their PUBACKs
# never hold the broker's in-flight window shut.
NODELAY = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Broker:
    """Mosquitto with a generated config, restartable on its port."""

    def __init__(self, workdir: Path) -> None:
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if not Path(binary).exists():
            raise SystemExit("bench.mqtt needs mosquitto: apt-get install mosquitto")
        self.binary, self.port = binary, free_port()
        self.config = workdir / "mosquitto.conf"
        lines = [f"listener {self.port} 127.0.0.1", "allow_anonymous true", "persistence false"]
        lines += ["max_queued_messages 100000"]  # the subscriber must not be the bottleneck
        lines += ["set_tcp_nodelay true"]
        if os.geteuid() == 0:
            lines.append("user root")
        self.config.write_text("\n".join(lines) + "\n")
        self.log = (workdir / "mosquitto.log").open("ab")
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> float:
        """Start; the monotonic time it listened at."""
        self.proc = subprocess.Popen(
            [self.binary, "-c", str(self.config)], stdout=self.log, stderr=subprocess.STDOUT
        )
        while True:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), 0.2),
            ):
                return time.monotonic()
            time.sleep(0.002)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


class Stamps:
    """A thing observer that notes when each value changed, keyed by topic and payload."""

    def __init__(self, bridge: MqttBridge) -> None:
        self.topics = {b.thing: b.topics for b in bridge.things}
        self.changed: dict[tuple[str, bytes], float] = {}

    def property_changed(self, thing: Thing, prop: Property) -> None:
        topic = self.topics[thing].property_value(prop.name)
        payload = msgspec.json.encode(prop.get_value())
        self.changed[(topic, payload)] = time.perf_counter()

    def action_changed(self, thing: Thing, action: Action) -> None:
        pass

    def event_raised(self, thing: Thing, event: Event) -> None:
        pass


@dataclass
class Fleet:
    bridges: list[MqttBridge] = field(default_factory=list)
    lamps: list[Lamp] = field(default_factory=list)
    stamps: list[Stamps] = field(default_factory=list)


def make_fleet(count: int, url: str, interval: float) -> Fleet:
    fleet = Fleet()
    for n in range(count):
        lamp = Lamp(SimulatedLed(), fade_step=0.02, id_=f"urn:dev:ops:bench-lamp-{n}")
        sensor = Sensor(
            SimulatedSensor(random.Random(n)),
            interval=interval,
            id_=f"urn:dev:ops:bench-sensor-{n}",
        )
        things = MultipleThings([lamp, sensor], f"Appliance {n}")
        settings = MqttSettings(url, base_topic=f"bench/appliance-{n}", client_id=f"bench-{n}")
        bridge = MqttBridge(things, settings)
        fleet.bridges.append(bridge)
        fleet.lamps.append(lamp)
        fleet.stamps.append(Stamps(bridge))
    return fleet


class Subscriber:
    """Receives everything under ``bench/`` and measures lag against the stamps."""

    def __init__(self, port: int, stamps: list[Stamps]) -> None:
        self.port = port
        self.changed: dict[tuple[str, bytes], float] = {}
        for s in stamps:
            s.changed = self.changed  # one shared table
        self.received = 0
        self.lags: list[float] = []
        self.latest: dict[str, bytes] = {}
        self.measuring = False

    async def run(self) -> None:
        while True:
            try:
                # A short keepalive: on uvloop this client has been seen to miss the
                # broker closing its socket (1 run in 8), noticing only by keepalive.
                async with aiomqtt.Client(
                    "127.0.0.1",
                    self.port,
                    identifier="bench-sub",
                    keepalive=5,
                    socket_options=NODELAY,
                ) as client:
                    # Values only (not the writers' own commands): what a dashboard follows.
                    await client.subscribe("bench/+/+/properties/+", qos=1)
                    async for message in client.messages:
                        now = time.perf_counter()
                        topic, payload = message.topic.value, bytes(message.payload)  # type: ignore[arg-type]
                        self.latest[topic] = payload
                        if not self.measuring:
                            continue
                        self.received += 1
                        stamped = self.changed.pop((topic, payload), None)
                        if stamped is not None:
                            self.lags.append(now - stamped)
            except aiomqtt.MqttError:
                await asyncio.sleep(0.05)


async def write_load(
    port: int, fleet: Fleet, rate: float, stop: asyncio.Event, counter: list[int]
) -> None:
    """Set random lamps' brightness at ``rate`` writes per second, over MQTT."""
    async with aiomqtt.Client(
        "127.0.0.1", port, identifier=f"bench-writer-{random.random()}", socket_options=NODELAY
    ) as client:
        bases = [b.things[0].topics for b in fleet.bridges]
        start, sent = time.perf_counter(), 0
        while not stop.is_set():
            due = start + sent / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            topic = random.choice(bases).property_set("brightness")
            await client.publish(topic, str(random.randint(0, 100)), qos=1)
            sent += 1
            counter[0] += 1


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        broker = Broker(Path(tmp))
        broker.start()
        try:
            return await measure(args, broker)
        finally:
            broker.stop()


async def measure(args: argparse.Namespace, broker: Broker) -> dict[str, Any]:
    fleet = make_fleet(args.appliances, f"mqtt://127.0.0.1:{broker.port}", args.interval)
    subscriber = Subscriber(broker.port, fleet.stamps)
    sub_task = asyncio.create_task(subscriber.run())
    for bridge, stamps in zip(fleet.bridges, fleet.stamps, strict=True):
        await bridge.start()
        for bridged in bridge.things:
            bridged.thing.add_observer(stamps)
    await until(lambda: all(b.idle for b in fleet.bridges), 30)

    # Steady state: sensors polling, writers writing.
    stop, writes = asyncio.Event(), [0]
    writers = [
        asyncio.create_task(
            write_load(broker.port, fleet, args.write_rate / args.writers, stop, writes)
        )
        for _ in range(args.writers)
    ]
    subscriber.measuring = True
    began, cpu0 = time.perf_counter(), cpu_seconds()
    await asyncio.sleep(args.duration)
    elapsed, cpu = time.perf_counter() - began, cpu_seconds() - cpu0
    subscriber.measuring = False
    stop.set()
    await asyncio.gather(*writers, return_exceptions=True)
    steady = {
        "appliances": args.appliances,
        "seconds": round(elapsed, 2),
        "writes_per_s": round(writes[0] / elapsed, 1),
        "messages_per_s": round(subscriber.received / elapsed, 1),
        "lag_p50_ms": round(percentile(subscriber.lags, 0.5) * 1000, 2),
        "lag_p90_ms": round(percentile(subscriber.lags, 0.9) * 1000, 2),
        "lag_p99_ms": round(percentile(subscriber.lags, 0.99) * 1000, 2),
        "lag_max_ms": round(max(subscriber.lags, default=float("nan")) * 1000, 2),
        "lag_samples": len(subscriber.lags),
        "cpu_per_message_us": round(cpu / max(subscriber.received, 1) * 1e6, 1),
        "process_cpu_percent": round(cpu / elapsed * 100, 1),
        "superseded": sum(b.outbox.superseded for b in fleet.bridges),
        "dropped": sum(b.outbox.dropped for b in fleet.bridges),
    }

    # Outage: stop the broker, change every lamp locally, restart it, time the recovery.
    await until(lambda: all(b.idle for b in fleet.bridges), 30)
    broker.stop()
    await until(lambda: not any(b.connected for b in fleet.bridges), 30)
    expected: dict[str, bytes] = {}
    for bridge, lamp in zip(fleet.bridges, fleet.lamps, strict=True):
        level = random.randint(0, 100)
        await lamp.set_property("brightness", level)
        expected[bridge.things[0].topics.property_value("brightness")] = str(level).encode()
    await asyncio.sleep(args.outage)
    up = broker.start()
    await until(lambda: all(b.connected for b in fleet.bridges), 120)
    all_connected = time.monotonic() - up
    await until(lambda: all(subscriber.latest.get(t) == p for t, p in expected.items()), 120)
    all_values = time.monotonic() - up
    outage = {
        "outage_s": args.outage,
        "all_reconnected_s": round(all_connected, 2),
        "all_latest_values_s": round(all_values, 2),
    }

    for bridge in fleet.bridges:
        await bridge.stop()
    for lamp in fleet.lamps:
        await lamp.close()
    for bridge in fleet.bridges:
        await bridge.things[1].thing.close()
    sub_task.cancel()
    await asyncio.gather(sub_task, return_exceptions=True)
    return {"steady": steady, "outage": outage}


async def until(condition: Any, within: float) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"bench.mqtt: condition not met within {within} s")
        await asyncio.sleep(0.005)


def render_results(results: dict[str, Any]) -> Iterator[str]:
    s, o = results["steady"], results["outage"]
    yield f"{s['appliances']} appliances (lamp + sensor each, one connection each), one broker"
    yield f"  writes in          {s['writes_per_s']:>9,.1f} /s over MQTT"
    yield f"  messages out       {s['messages_per_s']:>9,.1f} /s received by one subscriber"
    lag = f"p50 {s['lag_p50_ms']} ms, p90 {s['lag_p90_ms']} ms, p99 {s['lag_p99_ms']} ms"
    yield f"  publish lag        {lag} ({s['lag_samples']} samples)"
    cpu = f"{s['process_cpu_percent']} %"
    yield f"  process CPU        {cpu} ({s['cpu_per_message_us']} us per message received)"
    dropped = f"{s['superseded']} superseded values, {s['dropped']} dropped messages"
    yield f"  conflated/dropped  {dropped}"
    yield f"broker outage of {o['outage_s']} s"
    yield f"  all bridges back   {o['all_reconnected_s']} s after the broker listened again"
    yield f"  latest values in   {o['all_latest_values_s']} s after the broker listened again"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.mqtt",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--appliances", type=int, default=50)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of steady load")
    parser.add_argument("--write-rate", type=float, default=200.0, help="MQTT writes per second")
    parser.add_argument("--writers", type=int, default=4, help="writer clients")
    parser.add_argument("--interval", type=float, default=2.0, help="sensor poll interval, s")
    parser.add_argument("--outage", type=float, default=3.0, help="seconds the broker is down")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also save the results here")
    args = parser.parse_args(argv)
    runner: Any = asyncio.Runner
    try:
        import uvloop

        factory = uvloop.new_event_loop
    except ImportError:
        factory = None
    with runner(loop_factory=factory) as loop_runner:
        results = loop_runner.run(run(args))
    for line in render_results(results):
        print(line)
    if args.json:
        args.json.write_text(
            json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, **results}, indent=2)
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The WebThings reference lamp and a humidity sensor, served together as multiple things.

Run it with ``python examples/multiple_things.py`` (``--help`` for options): the lamp is at
``/0``, the sensor at ``/1``, and ``/`` lists both Thing Descriptions.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random

from quart import Quart

from thingtalk import MultipleThings, Property, Thing, Value, WebThingServer

try:  # run as a script (python examples/multiple_things.py) or as a module (-m examples...)
    from single_thing import Lamp
except ImportError:  # pragma: no cover
    from examples.single_thing import Lamp

log = logging.getLogger("humidity-sensor")


class HumiditySensor(Thing):
    """A web connected humidity sensor with fake readings."""

    id = "urn:dev:ops:my-humidity-sensor-1234"
    title = "My Humidity Sensor"
    type = ["MultiLevelSensor"]
    description = "A web connected humidity sensor"

    def __init__(self, interval: float = 3.0) -> None:
        super().__init__()
        self.interval = interval
        self.level = Value(0.0)

    async def build(self) -> HumiditySensor:
        await self.add_property(
            Property(
                "level",
                self.level,
                {
                    "@type": "LevelProperty",
                    "title": "Humidity",
                    "type": "number",
                    "description": "The current humidity in %",
                    "minimum": 0,
                    "maximum": 100,
                    "unit": "percent",
                    "readOnly": True,
                },
            )
        )
        # Kept by the thing, cancelled when the server shuts down.
        self.spawn(self.update_level(), name="humidity poller")
        return self

    async def update_level(self) -> None:
        """Poll the (fake) sensor and report each new reading."""
        while True:
            await asyncio.sleep(self.interval)
            new_level = self.read_from_gpio()
            log.debug("setting new humidity level: %s", new_level)
            await self.level.notify_of_external_update(new_level)

    @staticmethod
    def read_from_gpio() -> float:
        """A stand-in for a real reading."""
        return round(abs(70.0 * random.random() * (-0.5 + random.random())), 1)


def make_server(**options: object) -> WebThingServer:
    """The lamp and the sensor on one server; ``options`` go to :class:`WebThingServer`."""
    things = MultipleThings([Lamp(), HumiditySensor()], "LightAndTempDevice")
    return WebThingServer(things, **options)  # type: ignore[arg-type]


def create_app() -> Quart:
    """The Quart app alone, for ``hypercorn 'examples/multiple_things.py:create_app()'``."""
    # The ASGI server (hypercorn, uvicorn) configures only its own loggers: show ours too.
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    return make_server(discovery=False).create()


def main() -> None:
    """Parse the command line and serve until SIGINT or SIGTERM."""
    parser = argparse.ArgumentParser(description="Serve a lamp and a humidity sensor.")
    parser.add_argument("--host", default="0.0.0.0", help="address to listen on (default: 0.0.0.0)")
    parser.add_argument("--port", type=int, default=8888, help="TCP port (default: 8888)")
    parser.add_argument("--no-discovery", action="store_true", help="do not advertise over mDNS")
    parser.add_argument(
        "--log-level",
        type=str.upper,
        default="INFO",
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
        help="how much to log (default: INFO)",
    )
    parser.add_argument("--access-log", action="store_true", help="log every request")
    args = parser.parse_args()
    server = make_server(
        host=args.host, port=args.port, discovery=not args.no_discovery, access_log=args.access_log
    )
    server.run(log_level=args.log_level)  # a port in use: one line, exit status 2


if __name__ == "__main__":
    main()

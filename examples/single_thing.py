"""The WebThings reference lamp: a dimmable light with a fade action and an overheated event.

Run it with ``python examples/single_thing.py`` (``--help`` for options), or let Hypercorn
serve the app: ``hypercorn 'examples/single_thing.py:create_app()'``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from typing import Any

from quart import Quart

from thingtalk import Action, Property, Thing, Value, WebThingServer

#: The longest fade a client may ask for, in milliseconds (an hour): a fade that never ends
#: would hold its place in the bounded action history for good.
MAX_FADE_MS = 3_600_000


class FadeAction(Action):
    """Fade the lamp to a brightness over a duration, then report overheating."""

    async def perform_action(self) -> None:
        # A lamp fades one way at a time: a new fade replaces one still running.
        for other in list(self.thing.get_actions(self.name)):
            if other is not self and not other.finished:
                await other.cancel()
        await asyncio.sleep(self.input["duration"] / 1000)
        await self.thing.set_property("brightness", self.input["brightness"])
        self.thing.raise_event("overheated", 102)


class Lamp(Thing):
    """A web connected lamp."""

    id = "urn:dev:ops:my-lamp-1234"
    title = "My Lamp"
    type = ["OnOffSwitch", "Light"]
    description = "A web connected lamp"

    async def build(self) -> Lamp:
        await self.add_property(
            Property(
                "on",
                Value(True, lambda v: logging.info("On-State is now %s", v)),
                {
                    "@type": "OnOffProperty",
                    "title": "On/Off",
                    "type": "boolean",
                    "description": "Whether the lamp is turned on",
                },
            )
        )
        await self.add_property(
            Property(
                "brightness",
                Value(50, lambda v: logging.info("Brightness is now %s", v)),
                {
                    "@type": "BrightnessProperty",
                    "title": "Brightness",
                    "type": "integer",
                    "description": "The level of light from 0-100",
                    "minimum": 0,
                    "maximum": 100,
                    "unit": "percent",
                },
            )
        )
        self.add_available_action(
            "fade",
            {
                "title": "Fade",
                "description": "Fade the lamp to a given level",
                "input": {
                    "type": "object",
                    "required": ["brightness", "duration"],
                    "properties": {
                        "brightness": {
                            "type": "integer",
                            "minimum": 0,
                            "maximum": 100,
                            "unit": "percent",
                        },
                        "duration": {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": MAX_FADE_MS,
                            "unit": "milliseconds",
                        },
                    },
                },
            },
            FadeAction,
        )
        self.add_available_event(
            "overheated",
            {
                "description": "The lamp has exceeded its safe operating temperature",
                "type": "number",
                "unit": "degree celsius",
            },
        )
        return self


def make_server(**options: Any) -> WebThingServer:
    """The lamp's server; ``options`` go to :class:`WebThingServer`."""
    return WebThingServer(Lamp, **options)


def create_app() -> Quart:
    """The Quart app alone, for ``hypercorn 'examples/single_thing.py:create_app()'`` (no mDNS)."""
    # The ASGI server (hypercorn, uvicorn) configures only its own loggers: show ours too.
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    return make_server(discovery=False).create()


def main() -> None:
    """Parse the command line and serve until SIGINT or SIGTERM."""
    parser = argparse.ArgumentParser(description="Serve the WebThings reference lamp.")
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

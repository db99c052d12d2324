"""webthing-python 0.15's lamp: the yardstick the bench compares the lamp example with.

The same thing as ``examples/single_thing.py`` (a dimmable light with ``on`` and ``brightness``,
a ``fade`` action and an ``overheated`` event), written against webthing-python's API and served
by its own ``WebThingServer`` (Tornado) as a single thing. Like the lamp with ``--no-discovery``
it announces nothing over mDNS unless ``--discovery`` is given.

It runs in the separate venv the bench makes (``bench/.venv-webthing``, see ``bench.webthing_env``):
``bench/.venv-webthing/bin/python bench/webthing_lamp.py --port P``.
"""

from __future__ import annotations

import argparse
import logging
import signal
import time
import uuid
from typing import Any

import tornado.ioloop
from webthing import Action, Event, Property, SingleThing, Thing, Value, WebThingServer


class OverheatedEvent(Event):  # type: ignore[misc]
    """The lamp got too hot."""

    def __init__(self, thing: Thing, data: Any) -> None:
        Event.__init__(self, thing, "overheated", data=data)


class FadeAction(Action):  # type: ignore[misc]
    """Fade the lamp to a brightness over a duration, then report overheating."""

    def __init__(self, thing: Thing, input_: Any) -> None:
        Action.__init__(self, uuid.uuid4().hex, thing, "fade", input_=input_)

    def perform_action(self) -> None:
        time.sleep(self.input["duration"] / 1000)
        self.thing.set_property("brightness", self.input["brightness"])
        self.thing.add_event(OverheatedEvent(self.thing, 102))


def make_lamp() -> Thing:
    """The lamp, as webthing-python's API builds it."""
    thing = Thing(
        "urn:dev:ops:my-lamp-1234", "My Lamp", ["OnOffSwitch", "Light"], "A web connected lamp"
    )
    thing.add_property(
        Property(
            thing,
            "on",
            Value(True, lambda v: logging.info("On-State is now %s", v)),
            metadata={
                "@type": "OnOffProperty",
                "title": "On/Off",
                "type": "boolean",
                "description": "Whether the lamp is turned on",
            },
        )
    )
    thing.add_property(
        Property(
            thing,
            "brightness",
            Value(50, lambda v: logging.info("Brightness is now %s", v)),
            metadata={
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
    thing.add_available_action(
        "fade",
        {
            "title": "Fade",
            "description": "Fade the lamp to a given level",
            "input": {
                "type": "object",
                "required": ["brightness", "duration"],
                "properties": {
                    "brightness": {"type": "integer", "minimum": 0, "maximum": 100},
                    "duration": {"type": "integer", "minimum": 1, "unit": "milliseconds"},
                },
            },
        },
        FadeAction,
    )
    thing.add_available_event(
        "overheated",
        {
            "description": "The lamp has exceeded its safe operating temperature",
            "type": "number",
            "unit": "degree celsius",
        },
    )
    return thing


def main() -> None:
    """Serve the lamp until SIGINT or SIGTERM."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8888)
    parser.add_argument("--discovery", action="store_true", help="announce over mDNS")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    server = WebThingServer(SingleThing(make_lamp()), port=args.port)
    loop = tornado.ioloop.IOLoop.current()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: loop.add_callback_from_signal(loop.stop))
    if args.discovery:
        server.start()  # registers the mDNS service, then runs the loop
        return
    server.server.listen(args.port, address="127.0.0.1")
    loop.start()


if __name__ == "__main__":
    main()

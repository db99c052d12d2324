"""A bare Quart route on Hypercorn that answers the same JSON as the lamp's brightness property.

The yardstick for the lamp: ``python -m bench.bare --port P [--loop uvloop]``.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from typing import Any

from hypercorn.asyncio import serve
from hypercorn.config import Config
from quart import Quart, request


def create_app() -> Quart:
    """One GET and one PUT route on ``/properties/brightness``."""
    app = Quart("bare")

    @app.get("/properties/brightness")
    async def get_brightness() -> dict[str, Any]:
        return {"brightness": 50}

    @app.put("/properties/brightness")
    async def put_brightness() -> dict[str, Any]:
        body = await request.get_json(force=True)
        return {"brightness": body["brightness"]}

    return app


async def _main(port: int) -> None:
    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = None
    shutdown = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, shutdown.set)
    await serve(create_app(), config, shutdown_trigger=shutdown.wait)


def main() -> None:
    """Serve until SIGINT or SIGTERM."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    args = parser.parse_args()
    if args.loop == "uvloop":
        import uvloop

        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(_main(args.port))
    else:
        asyncio.run(_main(args.port))


if __name__ == "__main__":
    main()

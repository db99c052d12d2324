"""A lamp whose app another ASGI server serves (``uvicorn`` or the ``hypercorn`` command line).

The thing's title comes from ``THING_TITLE`` and mDNS stays on the loopback interface, so a
test can find this program's own records; ``THING_PORT``, when set, is passed as ``port=``.
"""

import os

from thingtalk import Property, Thing, Value, WebThingServer


class Lamp(Thing):
    type = ["OnOffSwitch", "Light"]

    async def build(self):
        await self.add_property(Property("on", Value(True), {"type": "boolean"}))
        return self


port = os.environ.get("THING_PORT")
app = WebThingServer(
    Lamp(title=os.environ["THING_TITLE"]),
    discovery_interfaces=["127.0.0.1"],
    **({"port": int(port)} if port else {}),
).create()

"""thingtalk: describe things in Python, serve them over WebThings and W3C WoT.

The model (``Thing``, ``Property``, ``Value``, ``Action``, ``Event``) loads without the web
stack; ``WebThingServer`` and ``Route`` bring in Quart and Hypercorn only when first used, so
a program that builds and drives things (or a test) pays for no server it does not run.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from .action import Action, ActionStatus
from .errors import ThingtalkError
from .event import Event
from .limits import Limits
from .loops import background_thread_loop
from .property import Property
from .thing import Thing, ThingObserver
from .things import MultipleThings, SingleThing
from .value import Value

if TYPE_CHECKING:
    from .server import Route, WebThingServer

try:
    __version__ = version("webthing-appliance")
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "Action",
    "ActionStatus",
    "Event",
    "Limits",
    "MultipleThings",
    "Property",
    "Route",
    "SingleThing",
    "Thing",
    "ThingObserver",
    "ThingtalkError",
    "Value",
    "WebThingServer",
    "__version__",
    "background_thread_loop",
]

_SERVER_NAMES = frozenset({"Route", "WebThingServer"})


def __getattr__(name: str) -> Any:
    # PEP 562: the server (Quart, Hypercorn) is imported on first use, not with the model.
    if name in _SERVER_NAMES:
        from . import server

        return getattr(server, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""A Web of Things library: describe things in Python, serve them over WebThings and W3C WoT."""

from __future__ import annotations

from .action import Action, ActionStatus
from .errors import ApplianceError
from .event import Event
from .property import Property
from .server import Route, WebThingServer
from .thing import Thing, ThingObserver
from .things import MultipleThings, SingleThing
from .value import Value

__all__ = [
    "Action",
    "ActionStatus",
    "ApplianceError",
    "Event",
    "MultipleThings",
    "Property",
    "Route",
    "SingleThing",
    "Thing",
    "ThingObserver",
    "Value",
    "WebThingServer",
]

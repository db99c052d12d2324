"""A Web of Things library: describe things in Python, serve them over the WebThings API and W3C WoT."""

from __future__ import annotations

from .action import Action, ActionStatus
from .errors import ApplianceError
from .event import Event
from .property import Property
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
    "SingleThing",
    "Thing",
    "ThingObserver",
    "Value",
]

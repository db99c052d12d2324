"""The MQTT dialect: where a thing's affordances live on a broker, and the TD forms that say so.

One topic per affordance, as the W3C WoT MQTT binding is designed around, under the thing's
base topic (payloads are bare JSON, like the W3C HTTP routes):

=================================  ===================================================
``<base>/td``                      the W3C TD with these forms (retained)
``<base>/properties/<name>``       the value, on every change (retained)
``<base>/properties/<name>/set``   writes, checked like an HTTP write
``<base>/actions/<name>``          invocations; the payload is the input
``<base>/actions/<name>/status``   each request's status as it changes
``<base>/events/<name>``           the event's data
``<base>/errors``                  ``{"error": code, "message": ...}`` for a refused message
=================================  ===================================================

plus the connection's ``<root>/availability`` (``online``/``offline``, retained, the last
will). The bridge subscribes and publishes through the same :class:`ThingTopics` the forms
are built from, so the description and the topics cannot drift apart.

The forms use the binding's vocabulary (``mqv:``): ``href`` is the broker, ``mqv:topic``
names what a consumer publishes to and ``mqv:filter`` what it subscribes to, with
``mqv:controlPacket``, ``mqv:retain`` and ``mqv:qos`` (a string, as the binding's schema has it).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from ..thing import Thing
from . import w3c

MQV = "https://www.w3.org/2019/wot/mqtt#"
MQV_CONTEXT = {"mqv": MQV}
#: Characters MQTT gives a meaning in topic names and filters.
_TOPIC_SPECIALS = frozenset("/+#\0")


def check_topic_level(name: str, what: str) -> None:
    """Refuse a name that cannot be one level of a topic (``/``, ``+``, ``#``, empty)."""
    if not name or _TOPIC_SPECIALS & set(name):
        raise ValueError(f"{what} {name!r} cannot be an MQTT topic level")


def check_topic(topic: str, what: str = "topic") -> None:
    """Refuse a topic name MQTT would reject (wildcards, empty levels at the ends, NUL)."""
    if not topic or topic.startswith("/") or topic.endswith("/") or {"+", "#", "\0"} & set(topic):
        raise ValueError(f"{what} {topic!r} is not a valid MQTT topic name")


@dataclass(frozen=True, slots=True)
class ThingTopics:
    """The topics of one thing, under its base topic."""

    base: str

    @property
    def td(self) -> str:
        """Where the thing's W3C TD is retained."""
        return f"{self.base}/td"

    @property
    def errors(self) -> str:
        """Where refused writes and invocations are answered."""
        return f"{self.base}/errors"

    def property_value(self, name: str) -> str:
        """The retained value of property ``name``."""
        return f"{self.base}/properties/{name}"

    def property_set(self, name: str) -> str:
        """Where writes of property ``name`` arrive."""
        return f"{self.base}/properties/{name}/set"

    def action(self, name: str) -> str:
        """Where invocations of action ``name`` arrive."""
        return f"{self.base}/actions/{name}"

    def action_status(self, name: str) -> str:
        """Where the status of each request of action ``name`` is published."""
        return f"{self.base}/actions/{name}/status"

    def event(self, name: str) -> str:
        """Where event ``name`` is published."""
        return f"{self.base}/events/{name}"

    @property
    def subscriptions(self) -> tuple[str, str]:
        """The filters the bridge subscribes to: every write and every invocation."""
        # `+` is one level: `actions/+` never matches the `actions/<name>/status` we publish.
        return (f"{self.base}/properties/+/set", f"{self.base}/actions/+")

    def parse(self, topic: str) -> tuple[str, str] | None:
        """``("set", name)`` or ``("invoke", name)`` for an incoming topic, else None."""
        if not topic.startswith(self.base + "/"):
            return None
        levels = topic[len(self.base) + 1 :].split("/")
        if len(levels) == 3 and levels[0] == "properties" and levels[2] == "set":
            return ("set", levels[1])
        if len(levels) == 2 and levels[0] == "actions":
            return ("invoke", levels[1])
        return None


@dataclass(frozen=True, slots=True)
class Broker:
    """How the forms reach the broker: its URL (no credentials), the QoS, and whether it
    asks for a username and password."""

    url: str
    qos: int = 1
    authenticated: bool = False


_MQTT_SECURITY = "mqtt_basic_sc"


def _form(
    broker: Broker,
    op: list[str],
    *,
    packet: str,
    topic: str | None = None,
    filter_: str | None = None,
    retain: bool = False,
) -> dict[str, Any]:
    form: dict[str, Any] = {"href": broker.url, "op": op, "contentType": w3c.JSON}
    if topic is not None:
        form["mqv:topic"] = topic
    if filter_ is not None:
        form["mqv:filter"] = filter_
    form["mqv:controlPacket"] = packet
    form["mqv:qos"] = str(broker.qos)
    form["mqv:retain"] = retain
    if broker.authenticated:
        form["security"] = _MQTT_SECURITY
    return form


def _observe(
    broker: Broker, filter_: str, ops: list[str], unops: list[str], retain: bool
) -> list[dict[str, Any]]:
    # One control packet per form: subscribing and unsubscribing are different packets.
    return [
        _form(broker, ops, packet="subscribe", filter_=filter_, retain=retain),
        _form(broker, unops, packet="unsubscribe", filter_=filter_, retain=retain),
    ]


def property_forms(
    thing: Thing, name: str, topics: ThingTopics, broker: Broker
) -> list[dict[str, Any]]:
    """readproperty and observeproperty (the value is retained), writeproperty if writable."""
    # A retained value can be read by subscribing: the binding then lists readproperty too.
    forms = _observe(
        broker,
        topics.property_value(name),
        ["readproperty", "observeproperty"],
        ["unobserveproperty"],
        retain=True,
    )
    if not thing.find_property(name).read_only:
        forms.append(
            _form(broker, ["writeproperty"], packet="publish", topic=topics.property_set(name))
        )
    return forms


def action_forms(name: str, topics: ThingTopics, broker: Broker) -> list[dict[str, Any]]:
    """invokeaction by publishing the input; the requests' statuses by subscribing."""
    return [
        _form(broker, ["invokeaction"], packet="publish", topic=topics.action(name)),
        _form(broker, ["queryaction"], packet="subscribe", filter_=topics.action_status(name)),
    ]


def event_forms(name: str, topics: ThingTopics, broker: Broker) -> list[dict[str, Any]]:
    """subscribeevent and unsubscribeevent."""
    return _observe(
        broker, topics.event(name), ["subscribeevent"], ["unsubscribeevent"], retain=False
    )


def root_forms(thing: Thing, topics: ThingTopics, broker: Broker) -> list[dict[str, Any]]:
    """Every property and every event at once, through a wildcard filter."""
    forms: list[dict[str, Any]] = []
    if thing.properties:
        forms += _observe(
            broker,
            topics.property_value("+"),
            ["observeallproperties"],
            ["unobserveallproperties"],
            retain=True,
        )
    if thing.available_events:
        forms += _observe(
            broker,
            topics.event("+"),
            ["subscribeallevents"],
            ["unsubscribeallevents"],
            retain=False,
        )
    return forms


@dataclass(frozen=True, slots=True)
class HttpOrigin:
    """Where the same thing is served over HTTP: ``origin`` (``http://host:port``) and the
    thing's path under it (``""`` or ``/0``)."""

    origin: str
    href_prefix: str = ""

    @property
    def ws_origin(self) -> str:
        """The websocket origin matching ``origin``."""
        scheme, sep, rest = self.origin.partition("://")
        return f"{'wss' if scheme == 'https' else 'ws'}{sep}{rest}"


def thing_description(
    thing: Thing,
    topics: ThingTopics,
    broker: Broker,
    *,
    http: HttpOrigin | None = None,
    extra_context: str | None = None,
) -> dict[str, Any]:
    """The W3C TD 1.1 of ``thing`` with MQTT forms, beside the HTTP ones when ``http`` says
    where the thing is served (without it the TD has MQTT forms only)."""
    td = w3c.thing_description(
        thing,
        href_prefix=http.href_prefix if http else "",
        origin=http.origin if http else "http://localhost",
        ws_origin=http.ws_origin if http else "ws://localhost",
        extra_context=extra_context,
    )
    td["@context"].append(copy.deepcopy(MQV_CONTEXT))
    if http is None:
        # Nothing answers HTTP: no base, no HTTP profiles, no HTTP forms.
        for key in ("base", "profile"):
            td.pop(key, None)
        for kind in ("properties", "actions", "events"):
            for affordance in td[kind].values():
                affordance["forms"] = []
        td["forms"] = []
    if broker.authenticated:
        td["securityDefinitions"][_MQTT_SECURITY] = {
            "scheme": "basic",
            "description": "the MQTT broker's username and password",
        }
    for name, affordance in td["properties"].items():
        affordance["forms"] += property_forms(thing, name, topics, broker)
    for name, affordance in td["actions"].items():
        affordance["forms"] += action_forms(name, topics, broker)
    for name, affordance in td["events"].items():
        affordance["forms"] += event_forms(name, topics, broker)
    td["forms"] += root_forms(thing, topics, broker)
    if not td["forms"]:
        del td["forms"]  # a TD's root forms, when present, may not be empty
    return td

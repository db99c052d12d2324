"""The TD on the broker: valid TD 1.1, MQTT forms (the binding's mqv: terms) that lead where
the values really are, beside the HTTP forms when the thing is also served over HTTP."""

from __future__ import annotations

from typing import Any

from tests.broker import Mosquitto, recording
from tests.support import eventually
from tests.thingtalk.w3c.conftest import assert_valid_td
from thingtalk.descriptions import mqtt as dialect
from thingtalk.mqtt import MqttBridge

from .conftest import Bulb, bridged, settings

BASE = "thingtalk/urn-dev-ops-test-bulb"


def mqtt_forms(forms: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [f for f in forms if f["href"].startswith("mqtt")]


async def test_the_td_is_retained_valid_and_its_forms_work(broker: Mosquitto) -> None:
    bulb = Bulb()
    bridge = MqttBridge(bulb, settings(broker), http_base="http://bulb.local:8888")
    async with bridged(bridge), recording(broker, f"{BASE}/#") as mqtt:
        await eventually(
            lambda: f"{BASE}/td" in mqtt.latest and f"{BASE}/availability" in mqtt.latest
        )
        td = mqtt.json(f"{BASE}/td")
        assert_valid_td(td)
        assert {"mqv": dialect.MQV} in td["@context"]
        assert td["id"] == bulb.id and td["base"] == "http://bulb.local:8888/"
        broker_url = f"mqtt://127.0.0.1:{broker.port}"

        level = td["properties"]["level"]["forms"]
        # The HTTP forms are still there, absolute under the base.
        assert {
            "href": "http://bulb.local:8888/wot/properties/level",
            "op": ["readproperty", "writeproperty"],
        }.items() <= level[0].items()
        read, unobserve, write = mqtt_forms(level)
        assert read == {
            "href": broker_url,
            "op": ["readproperty", "observeproperty"],
            "contentType": "application/json",
            "mqv:filter": f"{BASE}/properties/level",
            "mqv:controlPacket": "subscribe",
            "mqv:qos": "1",
            "mqv:retain": True,
        }
        assert unobserve["op"] == ["unobserveproperty"]
        assert unobserve["mqv:controlPacket"] == "unsubscribe"
        assert write["op"] == ["writeproperty"] and write["mqv:controlPacket"] == "publish"
        assert write["mqv:retain"] is False  # a retained write would be replayed
        # A read-only property has no write form.
        assert [f["op"] for f in mqtt_forms(td["properties"]["temperature"]["forms"])] == [
            ["readproperty", "observeproperty"],
            ["unobserveproperty"],
        ]

        # The forms lead where things happen: read where the value is, write where it is taken.
        assert mqtt.json(read["mqv:filter"]) == 50
        await mqtt.publish(write["mqv:topic"], 42)
        await mqtt.wait_for(read["mqv:filter"], 42)
        invoke, query = mqtt_forms(td["actions"]["blink"]["forms"])
        assert invoke["op"] == ["invokeaction"] and query["op"] == ["queryaction"]
        await mqtt.publish(invoke["mqv:topic"], {"times": 1})
        await eventually(
            lambda: (
                query["mqv:filter"] in mqtt.latest
                and mqtt.json(query["mqv:filter"])["state"] == "completed"
            )
        )
        subscribe, _ = mqtt_forms(td["events"]["blinked"]["forms"])
        assert subscribe["op"] == ["subscribeevent"]
        assert mqtt.json(subscribe["mqv:filter"]) == 1
        root = {tuple(f["op"]): f for f in mqtt_forms(td["forms"])}
        assert root[("observeallproperties",)]["mqv:filter"] == f"{BASE}/properties/+"
        assert root[("subscribeallevents",)]["mqv:filter"] == f"{BASE}/events/+"


async def test_without_http_the_td_has_mqtt_forms_only(broker: Mosquitto) -> None:
    bridge = MqttBridge(Bulb(), settings(broker))
    async with bridged(bridge), recording(broker, f"{BASE}/td") as mqtt:
        await eventually(lambda: f"{BASE}/td" in mqtt.latest)
        td = mqtt.json(f"{BASE}/td")
    assert_valid_td(td)
    assert "base" not in td and "profile" not in td
    forms = list(td["forms"])
    for kind in ("properties", "actions", "events"):
        for affordance in td[kind].values():
            forms += affordance["forms"]
    assert forms and all(f["href"] == f"mqtt://127.0.0.1:{broker.port}" for f in forms)


def test_several_things_keep_the_servers_http_paths() -> None:
    one, two = Bulb(id_="urn:dev:ops:a", title="A"), Bulb(id_="urn:dev:ops:b", title="B")
    bridge = MqttBridge([one, two], http_base="https://house.local/things/")
    assert bridge.root == "thingtalk/things"
    assert [(b.http.origin, b.http.href_prefix) for b in bridge.things if b.http] == [
        ("https://house.local", "/things/0"),
        ("https://house.local", "/things/1"),
    ]
    assert (
        bridge.things[1].http is not None and bridge.things[1].http.ws_origin == "wss://house.local"
    )


def test_the_forms_use_the_same_topics_the_bridge_subscribes_to() -> None:
    topics = dialect.ThingTopics("a/b")
    assert topics.parse("a/b/properties/on/set") == ("set", "on")
    assert topics.parse("a/b/actions/fade") == ("invoke", "fade")
    assert topics.parse("a/b/actions/fade/status") is None
    assert topics.parse("a/b/properties/on") is None
    assert topics.parse("a/bc/actions/fade") is None
    assert topics.subscriptions == ("a/b/properties/+/set", "a/b/actions/+")

"""MqttSettings: the broker URL and the options, checked when they are made."""

from __future__ import annotations

import re
from typing import Any

import pytest

from thingtalk.mqtt import MqttBridge, MqttSettings

from .conftest import Bulb


def test_urls_and_defaults() -> None:
    plain = MqttSettings("mqtt://broker.local")
    assert (plain.host, plain.port, plain.tls) == ("broker.local", 1883, False)
    secure = MqttSettings("mqtts://broker.local")
    assert (secure.port, secure.tls, secure.broker_url) == (8883, True, "mqtts://broker.local:8883")
    v6 = MqttSettings("mqtt://[::1]:1999")
    assert (v6.host, v6.port, v6.broker_url) == ("::1", 1999, "mqtt://[::1]:1999")
    creds = MqttSettings("mqtt://me:p%40ss@broker")
    assert creds.credentials == ("me", "p@ss")
    assert creds.broker_url == "mqtt://broker:1883"  # never the password
    assert MqttSettings("mqtt://u:x@b", username="v", password="y").credentials == ("v", "y")


@pytest.mark.parametrize(
    ("url", "options", "complaint"),
    [
        ("http://broker", {}, "mqtt:// or mqtts://"),
        ("mqtt://", {}, "no broker host"),
        ("mqtt://broker:99999", {}, "invalid port"),
        ("mqtt://broker/topic", {}, "only mqtt[s]://host[:port]"),
        ("mqtt://broker", {"base_topic": "a/#"}, "not a valid MQTT topic"),
        ("mqtt://broker", {"base_topic": "/a"}, "not a valid MQTT topic"),
        ("mqtt://broker", {"cert_file": "c.pem"}, "both cert_file and key_file"),
        ("mqtt://broker", {"reconnect_min": 5, "reconnect_max": 1}, "reconnect"),
        ("mqtt://broker", {"queue_size": 0}, "at least 1"),
    ],
)
def test_bad_settings_are_refused_with_the_reason(
    url: str, options: dict[str, Any], complaint: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(complaint)):
        MqttSettings(url, **options)


def test_default_topics_and_client_id() -> None:
    bridge = MqttBridge(Bulb())
    assert bridge.root == "thingtalk/urn-dev-ops-test-bulb"
    assert bridge.availability_topic == "thingtalk/urn-dev-ops-test-bulb/availability"
    assert bridge.client_id == "thingtalk-thingtalk-urn-dev-ops-test-bulb"
    named = MqttBridge(Bulb(), MqttSettings(base_topic="home/bulb", client_id="bulb-1"))
    assert (named.root, named.client_id) == ("home/bulb", "bulb-1")
    twins = MqttBridge([Bulb(), Bulb()], MqttSettings(base_topic="home"))
    assert [b.topics.base for b in twins.things] == ["home/test-bulb", "home/test-bulb-1"]


async def test_affordance_names_must_fit_in_a_topic_level() -> None:
    bulb = Bulb()
    await bulb.ensure_built()
    bulb.add_available_event("a/b")
    with pytest.raises(ValueError, match="cannot be an MQTT topic level"):
        await MqttBridge(bulb).start()

"""Things on an MQTT broker: :class:`MqttBridge` with its :class:`MqttSettings`.

Needs the ``mqtt`` extra (aiomqtt); importing this package does not, so the settings can be
built and checked anywhere, and ``start()`` says what to install when it is missing.
"""

from __future__ import annotations

from .bridge import BridgeStats, MqttBridge, topic_slug
from .settings import MqttSettings

__all__ = ["BridgeStats", "MqttBridge", "MqttSettings", "topic_slug"]

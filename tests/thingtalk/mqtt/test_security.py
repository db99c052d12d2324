"""mqtts:// with a CA file and a client certificate; username and password."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import aiomqtt
import pytest

from tests.broker import Certificates, Mosquitto, make_certificates, recording
from tests.support import eventually
from thingtalk.mqtt import MqttBridge

from .conftest import Bulb, bridged, settings

BASE = "thingtalk/urn-dev-ops-test-bulb"


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("certificates"))


@pytest.fixture
def tls_broker(tmp_path: Path, certificates: Certificates) -> Iterator[Mosquitto]:
    """A broker that speaks only TLS and wants a client certificate signed by the test CA."""
    broker = Mosquitto(tmp_path, certificates=certificates, require_client_certificate=True)
    broker.start()
    yield broker
    broker.stop()


async def test_tls_with_a_ca_file_and_a_client_certificate(
    tls_broker: Mosquitto, certificates: Certificates
) -> None:
    assert tls_broker.url.startswith("mqtts://localhost:")
    bulb = Bulb()
    client_cert = {
        "cert_file": str(certificates.client_cert),
        "key_file": str(certificates.client_key),
    }
    bridge = MqttBridge(bulb, settings(tls_broker, ca_file=str(certificates.ca), **client_cert))
    tls = aiomqtt.TLSParameters(
        ca_certs=str(certificates.ca),
        certfile=str(certificates.client_cert),
        keyfile=str(certificates.client_key),
    )
    async with bridged(bridge), recording(tls_broker, f"{BASE}/#", tls_params=tls) as mqtt:
        await eventually(lambda: mqtt.latest.get(f"{BASE}/availability") == b"online")
        await mqtt.publish(f"{BASE}/properties/level/set", 33)
        await mqtt.wait_for(f"{BASE}/properties/level", 33)
        td = mqtt.json(f"{BASE}/td")
        mqtt_forms = [f for f in td["properties"]["level"]["forms"] if "mqv:qos" in f]
        assert {f["href"] for f in mqtt_forms} == {f"mqtts://localhost:{tls_broker.port}"}


# paho-mqtt leaves the TLS socket of a failed handshake for the garbage collector (it is
# closed when the error is dropped, with a ResourceWarning): not ours to fix, so not an error.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize(
    "wrong",
    [
        pytest.param({"cert_file": None, "key_file": None}, id="no-client-certificate"),
        pytest.param({"ca_file": None}, id="broker-not-trusted"),
    ],
)
async def test_tls_refusals_are_retried_not_fatal(
    tls_broker: Mosquitto, certificates: Certificates, wrong: dict[str, None]
) -> None:
    options = {
        "ca_file": str(certificates.ca),
        "cert_file": str(certificates.client_cert),
        "key_file": str(certificates.client_key),
        **wrong,
    }
    # Under TLS 1.3 a refused client certificate shows only after the handshake, while the
    # client waits for CONNACK: the attempt ends at the timeout.
    bridge = MqttBridge(Bulb(), settings(tls_broker, timeout=0.5, **options))
    async with bridged(bridge):
        await eventually(lambda: bridge._failures >= 2)
        assert not bridge.connected


async def test_username_and_password(tmp_path: Path) -> None:
    broker = Mosquitto(tmp_path, users={"appliance": "s3cret", "watcher": "pw"})
    broker.start()
    try:
        bulb = Bulb()
        good = MqttBridge(bulb, settings(broker, username="appliance", password="s3cret"))
        async with (
            bridged(good),
            recording(broker, f"{BASE}/#", username="watcher", password="pw") as mqtt,
        ):
            await eventually(lambda: mqtt.latest.get(f"{BASE}/availability") == b"online")
            await mqtt.publish(f"{BASE}/properties/on/set", True)
            await mqtt.wait_for(f"{BASE}/properties/on", True)
            td = mqtt.json(f"{BASE}/td")
            assert td["securityDefinitions"]["mqtt_basic_sc"]["scheme"] == "basic"
            # The password never reaches the description.
            assert "s3cret" not in mqtt.latest[f"{BASE}/td"].decode()
        # The URL may carry them too; a wrong password is refused, and retried.
        in_url = MqttBridge(Bulb(), settings(f"mqtt://appliance:s3cret@127.0.0.1:{broker.port}"))
        async with bridged(in_url):
            await eventually(lambda: in_url.connected)
        wrong = MqttBridge(Bulb(), settings(broker, username="appliance", password="guess"))
        async with bridged(wrong):
            await eventually(lambda: wrong._failures >= 2)
            assert not wrong.connected
    finally:
        broker.stop()

"""TLS: with a certificate the server speaks HTTPS and wss://, its TDs say so, and the mDNS
records carry tls=1 and scheme=https."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from websockets.typing import Origin

from tests.support import lamp_server, serving
from thingtalk import discovery
from thingtalk.discovery import WEBTHING_SERVICE, WOT_SERVICE, Advertiser


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("TLS TEST SKIPPED: openssl is not installed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return str(cert), str(key)


async def test_https_and_wss(certificate: tuple[str, str], port: int) -> None:
    cert, key = certificate
    server = lamp_server(host="127.0.0.1", port=port, certfile=cert, keyfile=key)
    async with serving(server):
        context = ssl.create_default_context(cafile=cert)
        async with httpx.AsyncClient(base_url=f"https://127.0.0.1:{port}", verify=context) as http:
            td = (await http.get("/", headers={"Accept": "application/json"})).json()
            assert td["base"] == f"https://127.0.0.1:{port}/"
            socket_link = next(link["href"] for link in td["links"] if link["rel"] == "alternate")
            assert socket_link == f"wss://127.0.0.1:{port}/"
            w3c = (await http.get("/.well-known/wot")).json()
            assert w3c["base"] == f"https://127.0.0.1:{port}/"
            assert any(f["href"].startswith("wss://") for f in w3c["forms"])
        # The page of the same https origin may open its wss:// socket.
        async with websockets.connect(
            socket_link, ssl=context, origin=Origin(f"https://127.0.0.1:{port}")
        ) as ws:
            await ws.send('{"messageType": "setProperty", "data": {"on": false}}')
            assert "propertyStatus" in await ws.recv()


async def test_the_adverts_say_tls(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[Advertiser] = []

    class Recorder:
        def __init__(self, name: str, port: int, **kwargs: Any) -> None:
            made.append(Advertiser(name, port, **kwargs))

        async def start(self) -> None:
            pass

        async def stop(self) -> None:
            pass

    monkeypatch.setattr(discovery, "Advertiser", Recorder)
    server = lamp_server(port=8443, certfile=str(Path("cert.pem")), keyfile="key.pem")
    await server._start_discovery()
    assert made[-1]._txt(WEBTHING_SERVICE)["tls"] == "1"
    assert made[-1]._txt(WOT_SERVICE)["scheme"] == "https"

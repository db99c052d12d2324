"""The JWT example: PyJWT checks the tokens a ``verify_token`` hook is handed."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import jwt

from tests.support import EXAMPLES, load_example, started

SECRET = b"a-secret-of-at-least-32-bytes-for-hs256!"


async def test_only_tokens_the_issuer_signed_for_this_lamp_get_in() -> None:
    example = load_example("jwt_lamp")
    good = example.issue(SECRET, "alice")
    now = int(time.time())
    claims = {"sub": "x", "aud": example.AUDIENCE, "iss": example.ISSUER, "exp": now + 60}
    refused = {
        "other key": jwt.encode(claims, b"another-secret-of-32-bytes-or-more!!", "HS256"),
        "expired": example.issue(SECRET, "alice", lifetime=-10),
        "other thing": jwt.encode({**claims, "aud": "urn:other"}, SECRET, "HS256"),
        "other issuer": jwt.encode({**claims, "iss": "elsewhere"}, SECRET, "HS256"),
        "unsigned": jwt.encode(claims, "", "none"),
        "garbage": "not-a-jwt",
    }
    app = example.make_server(SECRET, discovery=False).create()
    async with started(app) as client:
        ok = await client.get("/properties", headers={"Authorization": f"Bearer {good}"})
        assert ok.status_code == 200
        for why, token in refused.items():
            response = await client.get("/properties", headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 401, why
        async with client.websocket(f"/?jwt={good}") as ws:
            await ws.send('{"messageType": "setProperty", "data": {"on": false}}')
            assert "propertyStatus" in await ws.receive()
        td = await (await client.get("/", headers={"Accept": "application/json"})).get_json()
        assert td["security"] == "bearer_sc"


def test_issue_prints_a_token(tmp_path: Path) -> None:
    key = tmp_path / "lamp.key"
    key.write_bytes(SECRET + b"\n")
    result = subprocess.run(
        [
            sys.executable,
            str(EXAMPLES / "jwt_lamp.py"),
            "--secret-file",
            str(key),
            "--issue",
            "bob",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    claims = jwt.decode(
        result.stdout.strip(), SECRET, algorithms=["HS256"], audience="urn:dev:ops:my-lamp-1234"
    )
    assert claims["sub"] == "bob"

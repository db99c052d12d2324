"""Shared helpers for the security tests: the lamp's write operations and what they change."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from quart.testing import QuartClient

from tests.support import free_port

HOST = "localhost:8888"
OWN = "http://localhost:8888"
GATEWAY = "http://gateway.local:8080"
TOKEN = "s3cret-token-for-the-tests-0123"
JSON_TYPE = "application/json"
FADE_INPUT = {"brightness": 80, "duration": 1}


@dataclass(frozen=True)
class Write:
    """One request that changes the lamp: the method, the path, and a JSON body."""

    name: str
    method: str
    path: str
    body: Any = None

    def __str__(self) -> str:
        return self.name


#: Every route that changes something, in both dialects ("{action}" is filled in with the
#: path of a request made beforehand, for the cancellations).
WRITES = [
    Write("put-property", "PUT", "/properties/brightness", {"brightness": 10}),
    Write("post-actions", "POST", "/actions", {"fade": {"input": FADE_INPUT}}),
    Write("post-named-action", "POST", "/actions/fade", {"fade": {"input": FADE_INPUT}}),
    Write("delete-action", "DELETE", "{action}"),
    Write("w3c-write-property", "PUT", "/wot/properties/brightness", 10),
    Write("w3c-write-multiple", "PUT", "/wot/properties", {"brightness": 10}),
    Write("w3c-invoke", "POST", "/wot/actions/fade", FADE_INPUT),
    Write("w3c-cancel", "DELETE", "{w3c_action}"),
]
READS = ["/", "/properties", "/properties/brightness", "/actions", "/events", "/wot/properties"]


async def state(client: QuartClient) -> tuple[Any, int]:
    """What a refused request must leave alone: the brightness and the action history."""
    brightness = await (await client.get("/properties/brightness", headers=TRUSTED)).get_json()
    actions = await (await client.get("/actions", headers=TRUSTED)).get_json()
    return brightness["brightness"], len(actions)


TRUSTED = {"Host": HOST, "Authorization": f"Bearer {TOKEN}"}


async def prepare(client: QuartClient, write: Write) -> str:
    """The write's path (a real action request's path for the cancellations)."""
    if write.path == "{action}":
        response = await client.post(
            "/actions",
            json={"fade": {"input": {"brightness": 80, "duration": 60_000}}},
            headers=TRUSTED,
        )
        href: str = (await response.get_json())["fade"]["href"]
        return href
    if write.path == "{w3c_action}":
        response = await client.post(
            "/wot/actions/fade", json={"brightness": 80, "duration": 60_000}, headers=TRUSTED
        )
        w3c_href: str = (await response.get_json())["href"]
        return w3c_href
    return write.path


async def send(
    client: QuartClient,
    write: Write,
    path: str,
    headers: dict[str, str],
    content_type: str | None = JSON_TYPE,
) -> Any:
    """Send ``write`` with ``headers`` and its body in ``content_type``."""
    all_headers = {"Host": HOST, **headers}
    data = None if write.body is None else json.dumps(write.body).encode()
    if data is not None:
        # What a real client sends with a body (Quart's test client leaves it out).
        all_headers["Content-Length"] = str(len(data))
        if content_type is not None:
            all_headers["Content-Type"] = content_type
    return await client.open(path, method=write.method, data=data, headers=all_headers)


@pytest.fixture
def port() -> int:
    return free_port()

"""The W3C TD 1.1: valid against the official schema, served where WoT clients look for it."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest

from tests.support import lamp_server, load_example, started
from thingtalk.descriptions import w3c

from .conftest import TD, assert_valid_td, gadget_server, pair_server, td_validator

HOST = {"Host": "lamp.local:8888"}
ALLOWED = {"allowed_hosts": ["lamp.local"]}


async def get_td(client: Any, path: str) -> dict[str, Any]:
    response = await client.get(path, headers={"Accept": TD, **HOST})
    assert response.status_code == 200
    assert response.content_type == TD
    td: dict[str, Any] = json.loads(await response.get_data())
    return td


def all_forms(td: dict[str, Any]) -> list[dict[str, Any]]:
    forms = list(td["forms"])
    for kind in ("properties", "actions", "events"):
        for affordance in td[kind].values():
            forms += affordance["forms"]
    return forms


def test_the_schema_checks_formats() -> None:
    """The validator is the strict one: a bad URI or a missing member fails."""
    validator = td_validator()
    assert not validator.is_valid({"title": "x"})
    good = {
        "@context": w3c.TD_CONTEXT,
        "title": "x",
        "securityDefinitions": {"n": {"scheme": "nosec"}},
        "security": "n",
    }
    assert validator.is_valid(good)
    assert not validator.is_valid({**good, "id": "not a uri"})
    assert not validator.is_valid({**good, "created": "yesterday"})


async def test_lamp_td_at_its_url_is_valid_and_complete() -> None:
    async with started(lamp_server(**ALLOWED).create()) as client:
        td = await get_td(client, "/")
    assert_valid_td(td)
    assert td["@context"][:2] == [w3c.TD10_CONTEXT, w3c.TD_CONTEXT]
    assert td["id"] == "urn:dev:ops:my-lamp-1234"
    assert td["title"] == "My Lamp"
    # The WebThings capability names, under the prefix the inline context defines.
    assert td["@context"][2] == {"webthings": "https://webthings.io/schemas#"}
    assert td["@type"] == ["webthings:OnOffSwitch", "webthings:Light"]
    assert td["properties"]["on"]["@type"] == "webthings:OnOffProperty"
    assert td["base"] == "http://lamp.local:8888/"
    assert td["profile"] == [w3c.HTTP_BASIC_PROFILE, w3c.HTTP_SSE_PROFILE]
    assert td["security"] == "nosec_sc"
    assert td["securityDefinitions"] == {"nosec_sc": {"scheme": "nosec"}}
    brightness = td["properties"]["brightness"]
    assert (brightness["type"], brightness["minimum"], brightness["maximum"]) == ("integer", 0, 100)
    assert brightness["unit"] == "percent" and brightness["observable"] is True
    assert "links" not in brightness
    fade = td["actions"]["fade"]
    assert fade["synchronous"] is False
    assert fade["input"]["required"] == ["brightness", "duration"]
    overheated = td["events"]["overheated"]
    assert overheated["data"] == {"type": "number", "unit": "degree celsius"}
    assert overheated["description"].startswith("The lamp has exceeded")
    for form in all_forms(td):
        assert {"href", "op", "contentType"} <= set(form), form
    ops = {op for f in td["forms"] for op in ([f["op"]] if isinstance(f["op"], str) else f["op"])}
    assert {"readallproperties", "writemultipleproperties", "observeallproperties"} <= ops
    assert {"queryallactions", "subscribeallevents"} <= ops


async def test_forms_name_the_routes_and_protocols() -> None:
    async with started(lamp_server(**ALLOWED).create()) as client:
        td = await get_td(client, "/")
    on = td["properties"]["on"]["forms"]
    assert on[0] == {
        "href": "http://lamp.local:8888/wot/properties/on",
        "op": ["readproperty", "writeproperty"],
        "contentType": "application/json",
    }
    assert on[1]["href"] == "http://lamp.local:8888/wot/sse/properties/on"
    assert on[1]["subprotocol"] == "sse"
    assert on[2]["href"] == "ws://lamp.local:8888/"
    assert on[2]["subprotocol"] == "webthingprotocol"
    event = td["events"]["overheated"]["forms"][0]
    assert event["href"] == "http://lamp.local:8888/wot/sse/events/overheated"
    assert event["op"] == ["subscribeevent", "unsubscribeevent"]
    assert td["actions"]["fade"]["forms"][0]["href"] == "http://lamp.local:8888/wot/actions/fade"


@pytest.mark.parametrize(
    ("make", "base_path", "things"),
    [(lamp_server, "", [""]), (lamp_server, "/lamp", [""]), (pair_server, "/api", ["/0", "/1"])],
)
async def test_every_form_resolves_the_same_with_or_without_base(
    make: Any, base_path: str, things: list[str]
) -> None:
    """Consumers that ignore `base` resolve each href as is: every href is absolute, it is
    what joining it with `base` gives, and it is a route that answers."""
    async with started(make(base_path=base_path, **ALLOWED).create()) as client:
        for thing in things:
            td = await get_td(client, f"{base_path}{thing}" or "/")
            base = td["base"]
            assert base == f"http://lamp.local:8888{base_path}{thing}/"
            for form in all_forms(td):
                href = form["href"]
                assert urljoin(base, href) == href, form
                assert href.startswith(("http://lamp.local:8888/", "ws://lamp.local:8888/"))
                if form.get("subprotocol") == "webthingprotocol":
                    assert href == f"ws://lamp.local:8888{(base_path + thing) or '/'}"
                    continue
                if form.get("subprotocol") == "sse" or "{" in href:
                    continue  # streams are checked in test_sse
                path = urlsplit(href).path
                answer = await client.get(path, headers=HOST)
                assert answer.status_code in (200, 405), (href, answer.status_code)


async def test_gadget_td_is_valid_and_says_what_the_model_says() -> None:
    async with started(gadget_server(**ALLOWED).create()) as client:
        td = await get_td(client, "/")
    assert_valid_td(td)
    assert td["actions"]["blink"]["synchronous"] is True
    assert td["actions"]["blink"]["output"] == {"type": "object"}
    assert td["actions"]["wait"]["synchronous"] is False
    serial = td["properties"]["serial"]
    assert serial["readOnly"] is True
    assert serial["forms"][0]["op"] == ["readproperty"]
    assert "data" not in td["events"]["ping"]


async def test_json_still_gets_the_webthings_td_and_well_known_the_w3c_one() -> None:
    async with started(lamp_server(**ALLOWED).create()) as client:
        webthings = await client.get("/", headers={"Accept": "application/json", **HOST})
        assert webthings.content_type == "application/json"
        assert "links" in json.loads(await webthings.get_data())
        anything = await client.get("/", headers={"Accept": "*/*", **HOST})
        assert "links" in json.loads(await anything.get_data())
        well_known = await client.get("/.well-known/wot", headers=HOST)
        assert well_known.content_type == TD
        td = json.loads(await well_known.get_data())
    assert td == await _td_of_lamp()
    assert_valid_td(td)


async def _td_of_lamp() -> dict[str, Any]:
    async with started(lamp_server(**ALLOWED).create()) as client:
        return await get_td(client, "/")


async def test_several_things_each_td_and_a_directory_valid() -> None:
    async with started(pair_server(**ALLOWED).create()) as client:
        for index in (0, 1):
            td = await get_td(client, f"/{index}")
            assert_valid_td(td)
            assert td["base"] == f"http://lamp.local:8888/{index}/"
            assert td["properties"]["on"]["forms"][2]["href"] == f"ws://lamp.local:8888/{index}"
        directory = await get_td(client, "/.well-known/wot")
        assert_valid_td(directory)
        assert directory["@type"] == "ThingDirectory"
        href = directory["properties"]["things"]["forms"][0]["href"]
        assert href == "http://lamp.local:8888/wot/things"
        listing = await client.get(urlsplit(href).path, headers=HOST)
        tds = json.loads(await listing.get_data())
    assert [t["id"] for t in tds] == ["urn:dev:ops:my-lamp-1234", "urn:dev:ops:gadget-1"]
    for td in tds:
        assert_valid_td(td)


@pytest.mark.parametrize("example", ["single_thing", "multiple_things"])
async def test_every_td_an_example_serves_is_valid(example: str) -> None:
    module = load_example(example)
    server = module.make_server(discovery=False, **ALLOWED)
    async with started(server.create()) as client:
        tds = [await get_td(client, "/.well-known/wot")]
        listing = await client.get("/wot/things", headers=HOST)
        if listing.status_code == 200:
            tds += json.loads(await listing.get_data())
            tds += [await get_td(client, f"/{i}") for i in range(len(tds) - 1)]
        else:
            tds.append(await get_td(client, "/"))
    for td in tds:
        assert_valid_td(td)

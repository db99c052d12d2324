"""The W3C TDs are JSON-LD that a JSON-LD processor (pyld) expands, offline.

Every ``@context`` entry must be a context the processor can load, or inline: the document
loader here knows the W3C contexts shipped in ``tests/data/jsonld-contexts`` and nothing else,
as a processor on the open web would find only those to be JSON-LD.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from pyld import jsonld

from tests.support import lamp_server, started
from thingtalk.descriptions.w3c import DISCOVERY_CONTEXT, TD10_CONTEXT, TD_CONTEXT

from .conftest import ROOT, TD, pair_server

CONTEXTS = ROOT / "tests" / "data" / "jsonld-contexts"
FILES = {
    TD_CONTEXT: CONTEXTS / "td-context-1.1.jsonld",
    TD10_CONTEXT: CONTEXTS / "td-context-1.1.jsonld",  # byte-identical, as the W3C serves it
    DISCOVERY_CONTEXT: CONTEXTS / "discovery-core.jsonld",
}
WEBTHINGS = "https://webthings.io/schemas#"
TYPE = "@type"


class Unloadable(Exception):
    """A context URL that is not one of the known JSON-LD contexts."""


def load_document(url: str, options: Any = None) -> dict[str, Any]:
    """pyld's document loader: the shipped contexts, and nothing from the network."""
    path = FILES.get(url.rstrip("/"))
    if path is None:
        raise Unloadable(f"{url} is not a JSON-LD context (not one of {sorted(FILES)})")
    return {"contextUrl": None, "documentUrl": url, "document": json.loads(path.read_text())}


def expand(document: dict[str, Any]) -> list[dict[str, Any]]:
    expanded: list[dict[str, Any]] = jsonld.expand(document, {"documentLoader": load_document})
    # And to RDF: every term and IRI must make sense to the processor.
    jsonld.to_rdf(document, {"documentLoader": load_document, "format": "application/n-quads"})
    return expanded


def affordance(expanded: dict[str, Any], kind: str, name: str) -> dict[str, Any]:
    """An expanded affordance by its name (the TD context indexes them by `name`)."""
    key = f"https://www.w3.org/2019/wot/td#has{kind}Affordance"
    for item in expanded[key]:
        # The index becomes a `name` value on each affordance (a property-valued index).
        if {"@value": name} in item.get("name", []):
            return item
    raise AssertionError(f"no {kind} {name!r} in {expanded[key]}")


def test_the_loader_refuses_the_webthings_schemas_url() -> None:
    with pytest.raises(jsonld.JsonLdError, match="loading remote context failed") as failed:
        expand({"@context": [TD_CONTEXT, "https://webthings.io/schemas"], "title": "x"})
    assert "https://webthings.io/schemas" in str(failed.value)


async def test_the_lamps_w3c_td_expands_with_the_webthings_types_as_iris() -> None:
    async with started(lamp_server().create()) as client:
        response = await client.get("/", headers={"Accept": TD})
        td = await response.get_json()
    [thing] = expand(td)
    assert set(thing[TYPE]) == {f"{WEBTHINGS}OnOffSwitch", f"{WEBTHINGS}Light"}
    on = affordance(thing, "Property", "on")
    assert f"{WEBTHINGS}OnOffProperty" in on[TYPE]  # beside the TD's own BooleanSchema
    brightness = affordance(thing, "Property", "brightness")
    assert f"{WEBTHINGS}BrightnessProperty" in brightness[TYPE]
    # The TD itself reads as before for JSON consumers: the types are compact names.
    assert td["@context"][:2] == [TD10_CONTEXT, TD_CONTEXT]
    assert all(isinstance(c, str | dict) for c in td["@context"])


@pytest.mark.parametrize("base_path", ["", "/things"])
async def test_every_served_td_and_the_directory_expand(base_path: str) -> None:
    async with started(pair_server(base_path=base_path).create()) as client:
        directory = await (await client.get("/.well-known/wot")).get_json()
        listing = await (await client.get(f"{base_path}/wot/things")).get_json()
        single = [
            await (await client.get(f"{base_path}/{i}", headers={"Accept": TD})).get_json()
            for i in range(len(listing))
        ]
    assert listing == single
    expand(directory)
    for td in listing:
        [thing] = expand(td)
        assert thing["@id"] == td["id"]

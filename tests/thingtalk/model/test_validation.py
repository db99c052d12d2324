"""Schemas: the fast validator never changes a verdict or a reason, and costs no jsonschema
until something is refused."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from thingtalk.errors import InvalidValue
from thingtalk.validation import Schema, _jsonschema_validator

ROOT = Path(__file__).resolve().parents[3]

KEYS = st.sampled_from(["a", "b", "c"])
NUMBERS = st.integers(-5, 5) | st.floats(-5, 5, allow_nan=False).map(lambda f: round(f, 1))
JSON: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | NUMBERS | st.sampled_from(["", "x", "ab", "1", "é"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
    max_leaves=6,
)
TYPES = st.sampled_from(["null", "boolean", "integer", "number", "string", "array", "object"])


def _keywords(sub: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    one = st.one_of(
        st.builds(
            lambda t: {"type": t}, TYPES | st.lists(TYPES, min_size=1, max_size=3, unique=True)
        ),
        st.builds(lambda n: {"minimum": n}, NUMBERS),
        st.builds(lambda n: {"maximum": n}, NUMBERS),
        st.builds(lambda n: {"exclusiveMinimum": n}, NUMBERS),
        st.builds(lambda n: {"exclusiveMaximum": n}, NUMBERS),
        st.builds(lambda n: {"multipleOf": n}, st.sampled_from([1, 2, 0.1, 0.5, 0.25])),
        st.builds(lambda n: {"minLength": n}, st.integers(0, 2)),
        st.builds(lambda n: {"maxLength": n}, st.integers(0, 2)),
        st.builds(lambda p: {"pattern": p}, st.sampled_from(["^a", "b$", "[0-9]", "^$"])),
        st.builds(lambda e: {"enum": e}, st.lists(JSON, min_size=1, max_size=3)),
        st.builds(lambda c: {"const": c}, JSON),
        st.builds(lambda s: {"items": s}, sub),
        st.builds(lambda s: {"items": s}, st.lists(sub, min_size=1, max_size=2)),
        st.builds(lambda n: {"minItems": n}, st.integers(0, 2)),
        st.builds(lambda n: {"maxItems": n}, st.integers(0, 2)),
        st.builds(lambda u: {"uniqueItems": u}, st.booleans()),
        st.builds(lambda s: {"contains": s}, sub),
        st.builds(lambda p: {"properties": p}, st.dictionaries(KEYS, sub, max_size=2)),
        st.builds(lambda r: {"required": r}, st.lists(KEYS, unique=True, max_size=2)),
        st.builds(lambda a: {"additionalProperties": a}, st.booleans() | sub),
        st.builds(lambda n: {"minProperties": n}, st.integers(0, 2)),
        st.builds(lambda s: {"propertyNames": s}, sub),
        st.builds(lambda s: {"not": s}, sub),
        st.builds(lambda s: {"allOf": s}, st.lists(sub, min_size=1, max_size=2)),
        st.builds(lambda s: {"anyOf": s}, st.lists(sub, min_size=1, max_size=2)),
        st.builds(lambda s: {"oneOf": s}, st.lists(sub, min_size=1, max_size=2)),
        st.builds(lambda i, t: {"if": i, "then": t}, sub, sub),
    )
    return st.lists(one, min_size=1, max_size=3).map(
        lambda ds: {k: v for d in ds for k, v in d.items()}
    )


SCHEMAS: st.SearchStrategy[dict[str, Any]] = st.recursive(st.just({}), _keywords, max_leaves=4)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schema=SCHEMAS, value=JSON)
def test_the_verdict_and_the_reason_are_jsonschemas(schema: dict[str, Any], value: Any) -> None:
    """Whatever the schema and the value, Schema accepts exactly what jsonschema (Draft 7,
    exact decimal multipleOf) accepts, and refuses with jsonschema's first reason."""
    errors = _jsonschema_validator()(schema).iter_errors(value)
    expected = next(iter(errors), None)
    checked = Schema(schema, what="x")
    if expected is None:
        checked.check(value, what="value")
    else:
        with pytest.raises(InvalidValue) as refused:
            checked.check(value, what="value")
        assert expected.message in str(refused.value)


@pytest.mark.parametrize(
    ("schema", "reason"),
    [
        ({"type": "colour"}, "'colour' is not valid under any of the given schemas"),
        ({"minimum": "low"}, "'low' is not of type 'number'"),
        ({"pattern": "("}, "'(' is not a 'regex'"),
        ({"required": "on"}, "'on' is not of type 'array'"),
    ],
)
def test_an_invalid_schema_is_refused_with_the_reason(schema: dict[str, Any], reason: str) -> None:
    with pytest.raises(ValueError, match="invalid schema for property 'p': ") as refused:
        Schema(schema, what="property 'p'")
    assert reason in str(refused.value)


def test_a_remote_reference_is_never_fetched(tmp_path: Path) -> None:
    """fastjsonschema would open any URL a ``$ref`` names; nothing is read."""
    target = tmp_path / "schema.json"
    target.write_text('{"type": "string"}')
    schema = Schema({"$ref": target.as_uri()}, what="property 'p'")
    with pytest.raises(Exception, match="Unresolvable"):
        schema.check("text", what="value")


def test_jsonschema_is_loaded_only_for_a_refusal() -> None:
    """A thing whose values are all valid never pays for jsonschema's import (about 8 MiB);
    the first refused value loads it and is refused with its words."""
    program = textwrap.dedent(
        """
        import asyncio, sys
        from thingtalk import Action, Property, Thing, Value
        from thingtalk.errors import InvalidValue

        async def main():
            thing = Thing("urn:x", "X")
            schema = {"type": "integer", "minimum": 0, "maximum": 100}
            await thing.add_property(Property("level", Value(1), schema))
            go = {"input": {"type": "object", "required": ["to"]}}
            thing.add_available_action("go", go, Action)
            await thing.set_property("level", 100)
            thing.validate_action_input("go", {"to": 1})
            print("jsonschema" in sys.modules)
            try:
                await thing.set_property("level", 101)
            except InvalidValue as refused:
                print(refused)
            print("jsonschema" in sys.modules)

        asyncio.run(main())
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "False",
        "invalid value for property 'level': 101 is greater than the maximum of 100",
        "True",
    ]

"""Checking values against the JSON-Schema metadata of properties and actions."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

# jsonschema imports, when installed, the optional libraries its FormatChecker uses (the
# ``format-nongpl`` extra, a development dependency here): rfc3987-syntax alone builds a Lark
# grammar at import, about 1.5 s and 15 MiB. Values are never checked against ``format`` here
# (a Thing's schemas use no FormatChecker), so unless something imported jsonschema first,
# those libraries are hidden while it loads: its FormatChecker then lacks the formats they
# provide. Code that needs them imports jsonschema before thingtalk.
_FORMAT_LIBRARIES = (
    "fqdn", "idna", "rfc3987", "rfc3986_validator", "rfc3987_syntax", "rfc3339_validator",
    "webcolors", "jsonpointer", "uri_template", "isoduration",
)  # fmt: skip
_hidden = [] if "jsonschema" in sys.modules else [
    name for name in _FORMAT_LIBRARIES if name not in sys.modules
]  # fmt: skip
for _name in _hidden:
    sys.modules[_name] = None  # type: ignore[assignment]  # import raises ImportError
try:
    from jsonschema import Draft7Validator, validators
    from jsonschema.exceptions import SchemaError, ValidationError
finally:
    for _name in _hidden:
        if sys.modules.get(_name, 0) is None:
            del sys.modules[_name]

from .errors import InvalidValue  # noqa: E402

# Keys of a WebThings/W3C data schema that are annotations, not constraints. jsonschema
# ignores unknown keywords, so they need no stripping; `readOnly` is enforced by the
# property itself because the schema keyword is only an annotation.
_ANNOTATIONS = frozenset({"@type", "title", "description", "unit", "links", "forms"})

_float_multiple_of = Draft7Validator.VALIDATORS["multipleOf"]


def _multiple_of(
    validator: Any, divisor: Any, instance: Any, schema: Any
) -> Iterator[ValidationError]:
    # jsonschema divides floats, so 0.3 is "not a multiple of 0.1" (0.3 / 0.1 is
    # 2.9999999999999996). Accept a value whose decimal form is an exact multiple of the
    # divisor's; leave everything else (and anything Decimal cannot handle) to jsonschema.
    if validator.is_type(instance, "number") and isinstance(divisor, int | float):
        try:
            if Decimal(str(instance)) % Decimal(str(divisor)) == 0:
                return
        except (InvalidOperation, ArithmeticError, ValueError):
            pass
    yield from _float_multiple_of(validator, divisor, instance, schema)


_Validator = validators.extend(  # type: ignore[no-untyped-call]
    Draft7Validator, {"multipleOf": _multiple_of}
)


def _types(schema: Mapping[str, Any]) -> set[str]:
    declared = schema.get("type")
    if isinstance(declared, str):
        return {declared}
    if isinstance(declared, list):
        return {t for t in declared if isinstance(t, str)}
    return set()


def _declares_integer(schema: Any) -> bool:
    """True if ``schema`` says ``integer`` anywhere :func:`conform` looks."""
    if not isinstance(schema, Mapping):
        return False
    if "integer" in _types(schema):
        return True
    children: list[Any] = []
    properties = schema.get("properties")
    if isinstance(properties, Mapping):
        children.extend(properties.values())
    items = schema.get("items")
    children.extend(items if isinstance(items, list) else [items])
    children.append(schema.get("additionalProperties"))
    return any(_declares_integer(child) for child in children)


def conform(value: Any, schema: Mapping[str, Any]) -> Any:
    """``value`` with each integral float the schema declares ``integer`` made an ``int``.

    JSON Schema counts ``73.0`` as an integer, so a client's ``73.0`` or ``1e2`` passes an
    ``integer`` schema; stored as it came, it would be served, saved and restored as a float
    of a property that promises an integer. Objects (``properties``, ``additionalProperties``)
    and arrays (``items``) are followed as deep as the schema goes, which is finite; anything
    else is returned as it is, to be judged by :meth:`Schema.check`.
    """
    types = _types(schema)
    if (
        isinstance(value, float)
        and "integer" in types
        and "number" not in types
        and value.is_integer()
    ):
        return int(value)
    if isinstance(value, dict):
        properties = schema.get("properties")
        properties = properties if isinstance(properties, Mapping) else {}
        extra = schema.get("additionalProperties")
        out = {}
        for key, item in value.items():
            sub = properties.get(key, extra)
            out[key] = conform(item, sub) if isinstance(sub, Mapping) else item
        return out
    if isinstance(value, list):
        items = schema.get("items")
        if isinstance(items, Mapping):
            return [conform(item, items) for item in value]
        if isinstance(items, list):
            subs = items[: len(value)] + [None] * (len(value) - len(items))
            return [
                conform(item, sub) if isinstance(sub, Mapping) else item
                for item, sub in zip(value, subs, strict=True)
            ]
    return value


class Schema:
    """A compiled JSON Schema that raises :class:`InvalidValue` with the reason."""

    __slots__ = ("_integers", "_schema", "_trivial", "_validator")

    def __init__(self, schema: Mapping[str, Any], *, what: str) -> None:
        try:
            Draft7Validator.check_schema(dict(schema))
        except SchemaError as exc:
            raise ValueError(f"invalid schema for {what}: {exc.message}") from exc
        self._schema = dict(schema)
        self._validator = _Validator(self._schema)
        self._integers = _declares_integer(self._schema)
        # A schema of annotations only accepts everything: skip the validator then.
        self._trivial = not (set(schema) - _ANNOTATIONS - {"readOnly", "writeOnly"})

    def conform(self, value: Any) -> Any:
        """``value`` in the schema's own types (see :func:`conform`)."""
        return conform(value, self._schema) if self._integers else value

    def admit(self, value: Any, *, what: str) -> Any:
        """``value`` conformed to the schema's types, or :class:`InvalidValue` naming ``what``."""
        value = self.conform(value)
        self.check(value, what=what)
        return value

    def check(self, value: Any, *, what: str) -> None:
        """Raise :class:`InvalidValue` naming ``what`` unless ``value`` satisfies the schema."""
        if self._trivial:
            return
        error = next(iter(self._validator.iter_errors(value)), None)
        if error is not None:
            where = "".join(f"[{p!r}]" for p in error.absolute_path)
            raise InvalidValue(f"invalid {what}{where}: {error.message}")

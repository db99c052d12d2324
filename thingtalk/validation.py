"""Checking values against the JSON-Schema metadata of properties and actions.

Two validators give one verdict. fastjsonschema compiles each schema to a small Python
function: a cheap import and a fast call, and it decides every value it accepts. A value it
refuses goes to jsonschema, which decides again and words the reason, so refusals and their
messages are jsonschema's (Draft 7, with an exact decimal ``multipleOf``). jsonschema
(with referencing and its registry of dialects: about 8 MiB and a tenth of a second of
import) is loaded only when something is refused, which a running appliance may never see.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal, InvalidOperation
from importlib import resources
from types import ModuleType
from typing import Any, NoReturn

import fastjsonschema

from .errors import InvalidValue

# jsonschema imports, when installed, the optional libraries its FormatChecker uses (the
# ``format-nongpl`` extra, a development dependency here): rfc3987-syntax alone builds a Lark
# grammar at import, about 1.5 s and 15 MiB. Values are never checked against ``format`` here
# (a Thing's schemas use no FormatChecker), so unless something imported jsonschema first,
# those libraries are hidden while it loads: its FormatChecker then lacks the formats they
# provide. Code that needs them imports jsonschema before thingtalk's first refusal.
_FORMAT_LIBRARIES = (
    "fqdn", "idna", "rfc3987", "rfc3986_validator", "rfc3987_syntax", "rfc3339_validator",
    "webcolors", "jsonpointer", "uri_template", "isoduration",
)  # fmt: skip

# Keys of a WebThings/W3C data schema that are annotations, not constraints. Both validators
# ignore unknown keywords, so they need no stripping; `readOnly` is enforced by the property
# itself because the schema keyword is only an annotation.
_ANNOTATIONS = frozenset({"@type", "title", "description", "unit", "links", "forms"})

_Check = Callable[[Any], Any]


@functools.cache
def _jsonschema() -> ModuleType:
    """jsonschema, imported on first use with the format libraries hidden (see above)."""
    if "jsonschema" in sys.modules:
        return sys.modules["jsonschema"]
    hidden = [name for name in _FORMAT_LIBRARIES if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # import raises ImportError
    try:
        import jsonschema
    finally:
        for name in hidden:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]
    return jsonschema


@functools.cache
def _jsonschema_validator() -> Any:
    """jsonschema's Draft 7 validator class with exact decimal ``multipleOf``."""
    jsonschema = _jsonschema()
    float_multiple_of = jsonschema.Draft7Validator.VALIDATORS["multipleOf"]

    def _multiple_of(validator: Any, divisor: Any, instance: Any, schema: Any) -> Iterator[Any]:
        # jsonschema divides floats, so 0.3 is "not a multiple of 0.1" (0.3 / 0.1 is
        # 2.9999999999999996). Accept a value whose decimal form is an exact multiple of the
        # divisor's; leave everything else (and anything Decimal cannot handle) to jsonschema.
        if validator.is_type(instance, "number") and isinstance(divisor, int | float):
            try:
                if Decimal(str(instance)) % Decimal(str(divisor)) == 0:
                    return
            except (InvalidOperation, ArithmeticError, ValueError):
                pass
        yield from float_multiple_of(validator, divisor, instance, schema)

    return jsonschema.validators.extend(jsonschema.Draft7Validator, {"multipleOf": _multiple_of})


class _NoRemoteReferences(dict[str, Callable[[str], Any]]):
    """fastjsonschema's handlers for ``$ref`` to other documents: none are fetched (it would
    open any URL, ``file:`` included). The compile fails and jsonschema, which fetches
    nothing either, takes the schema."""

    def __contains__(self, scheme: object) -> bool:
        return True

    def __missing__(self, scheme: str) -> Callable[[str], NoReturn]:
        def refuse(uri: str) -> NoReturn:
            raise LookupError(f"{uri} is not fetched")

        return refuse


def _compile(schema: Mapping[str, Any], *, use_formats: bool = False) -> _Check:
    # No defaults filled into the value (fastjsonschema's default), no `format` checks
    # (jsonschema without a FormatChecker makes none), no schema copied into each exception.
    return fastjsonschema.compile(
        dict(schema),
        handlers=_NoRemoteReferences(),
        use_default=False,
        use_formats=use_formats,
        detailed_exceptions=False,
    )


@functools.cache
def _draft7_metaschema() -> _Check:
    """The Draft 7 metaschema compiled; ``format`` checked, as jsonschema's check_schema does
    (an invalid ``pattern`` is an invalid schema)."""
    text = resources.files(__package__).joinpath("schemas/json-schema-draft-07.json").read_text()
    return _compile(json.loads(text), use_formats=True)


def _check_schema(schema: Mapping[str, Any], what: str) -> None:
    """Raise ValueError, with jsonschema's reason, unless ``schema`` is a Draft 7 schema."""
    metaschema = _draft7_metaschema()  # outside the try: a broken install must not pass
    try:
        metaschema(dict(schema))
        return
    except Exception:  # a refusal, or anything the compiled code trips on: ask jsonschema
        pass
    jsonschema = _jsonschema()
    try:
        jsonschema.Draft7Validator.check_schema(dict(schema))
    except jsonschema.exceptions.SchemaError as exc:
        raise ValueError(f"invalid schema for {what}: {exc.message}") from exc


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

    __slots__ = ("_fast", "_integers", "_schema", "_slow", "_trivial")

    def __init__(self, schema: Mapping[str, Any], *, what: str) -> None:
        _check_schema(schema, what)
        self._schema = dict(schema)
        self._integers = _declares_integer(self._schema)
        # A schema of annotations only accepts everything: skip the validators then.
        self._trivial = not (set(schema) - _ANNOTATIONS - {"readOnly", "writeOnly"})
        self._fast: _Check | None = None
        self._slow: Any = None  # the jsonschema validator, made on the first refusal
        if not self._trivial:
            try:
                self._fast = _compile(self._schema)
            except Exception:  # fastjsonschema cannot take it (a remote $ref): jsonschema can
                self._fast = None

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
        if self._fast is not None:
            try:
                self._fast(value)
                return
            except Exception:  # refused (or a value its code trips on): jsonschema decides
                pass
        if self._slow is None:
            self._slow = _jsonschema_validator()(self._schema)
        error = next(iter(self._slow.iter_errors(value)), None)
        if error is not None:
            where = "".join(f"[{p!r}]" for p in error.absolute_path)
            raise InvalidValue(f"invalid {what}{where}: {error.message}")

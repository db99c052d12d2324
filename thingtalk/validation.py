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


class Schema:
    """A compiled JSON Schema that raises :class:`InvalidValue` with the reason."""

    __slots__ = ("_trivial", "_validator")

    def __init__(self, schema: Mapping[str, Any], *, what: str) -> None:
        try:
            Draft7Validator.check_schema(dict(schema))
        except SchemaError as exc:
            raise ValueError(f"invalid schema for {what}: {exc.message}") from exc
        self._validator = _Validator(dict(schema))
        # A schema of annotations only accepts everything: skip the validator then.
        self._trivial = not (set(schema) - _ANNOTATIONS - {"readOnly", "writeOnly"})

    def check(self, value: Any, *, what: str) -> None:
        """Raise :class:`InvalidValue` naming ``what`` unless ``value`` satisfies the schema."""
        if self._trivial:
            return
        error = next(iter(self._validator.iter_errors(value)), None)
        if error is not None:
            where = "".join(f"[{p!r}]" for p in error.absolute_path)
            raise InvalidValue(f"invalid {what}{where}: {error.message}")

"""Checking values against the JSON-Schema metadata of properties and actions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jsonschema import Draft7Validator
from jsonschema.exceptions import SchemaError

from .errors import InvalidValue

# Keys of a WebThings/W3C data schema that are annotations, not constraints. jsonschema
# ignores unknown keywords, so they need no stripping; `readOnly` is enforced by the
# property itself because the schema keyword is only an annotation.
_ANNOTATIONS = frozenset({"@type", "title", "description", "unit", "links", "forms"})


class Schema:
    """A compiled JSON Schema that raises :class:`InvalidValue` with the reason."""

    __slots__ = ("_validator", "_trivial")

    def __init__(self, schema: Mapping[str, Any], *, what: str) -> None:
        try:
            Draft7Validator.check_schema(dict(schema))
        except SchemaError as exc:
            raise ValueError(f"invalid schema for {what}: {exc.message}") from exc
        self._validator = Draft7Validator(dict(schema))
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

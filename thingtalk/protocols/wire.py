"""The one wire shape: JSON encoding, and errors mapped to a status and a body."""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any

import msgspec
from quart import Response

from ..descriptions.errors import error_body as error_body  # re-exported: one body everywhere
from ..errors import BadRequest, ThingtalkError
from ..limits import Limits

JSON = "application/json"
PROBLEM_JSON = "application/problem+json"
# The W3C routes (under a thing's ``wot/`` and ``/.well-known/wot``) answer errors with
# Problem Details, also when the request fails before any view runs.
W3C_PATH = re.compile(r"(^|/)wot(/|$)|^/\.well-known/wot$")

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder()


def dumps(obj: Any) -> bytes:
    """Encode ``obj`` as compact JSON."""
    return _encoder.encode(obj)


#: How deeply arrays and objects may nest in a client's JSON (``[[1]]`` is 2 deep).
MAX_JSON_DEPTH = Limits.max_json_depth


def loads(data: bytes | str, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Decode JSON, or raise :class:`BadRequest` saying why.

    Refused: malformed JSON, bytes that are not UTF-8 (in a string, a key, an overlong
    sequence) and anything nested deeper than ``max_depth``, which the validators and every
    other walk over the value would otherwise have to recurse through.
    """
    try:
        value = _decoder.decode(data)
    except msgspec.DecodeError as exc:
        raise BadRequest(f"malformed JSON: {exc}") from None
    except UnicodeDecodeError:
        raise BadRequest("the JSON is not valid UTF-8") from None
    except RecursionError:
        # msgspec bounds its own recursion; a body this deep is far beyond max_depth anyway.
        raise BadRequest(f"JSON nested deeper than {max_depth} levels") from None
    if _openings(data) > max_depth and _deeper_than(value, max_depth):
        raise BadRequest(f"JSON nested deeper than {max_depth} levels")
    return value


def _openings(data: bytes | str) -> int:
    # An upper bound of the depth, counted in C: most bodies need no walk at all.
    if isinstance(data, str):
        return data.count("[") + data.count("{")
    return data.count(b"[") + data.count(b"{")


def _deeper_than(value: Any, limit: int) -> bool:
    """True if ``value`` nests arrays/objects deeper than ``limit`` (a loop, not recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        if not isinstance(item, dict | list):
            continue
        if level > limit:
            return True
        stack.extend((child, level + 1) for child in children if isinstance(child, dict | list))
    return False


def json_response(obj: Any, status: int = 200, content_type: str = JSON) -> Response:
    """A JSON response."""
    return Response(dumps(obj), status=status, content_type=content_type)


def status_line(error: ThingtalkError) -> str:
    """``"400 Bad Request"``, as WebThings websocket errors carry it."""
    return f"{error.status} {HTTPStatus(error.status).phrase}"


def problem_details(error: ThingtalkError, instance: str | None = None) -> dict[str, Any]:
    """The same error as RFC 9457 Problem Details.

    ``type`` stays ``about:blank`` (so ``title`` is the status phrase, as the RFC asks);
    the machine-readable code travels in the ``error`` extension member.
    """
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(error.status).phrase,
        "status": int(error.status),
        "detail": error.message,
        "error": error.code,
    }
    if instance:
        body["instance"] = instance
    return body


def error_response(
    error: ThingtalkError, *, problem: bool = False, instance: str | None = None
) -> Response:
    """``error`` as an HTTP response: the WebThings body, or Problem Details on W3C routes."""
    if problem:
        return json_response(problem_details(error, instance), int(error.status), PROBLEM_JSON)
    return json_response(error_body(error), int(error.status))


def error_bytes(error: ThingtalkError, path: str) -> tuple[bytes, str]:
    """``(body, content type)`` of ``error`` for a request to ``path``, for code that answers
    before Quart (the front door): Problem Details on W3C paths, else the WebThings body."""
    if W3C_PATH.search(path):
        return dumps(problem_details(error, path)), PROBLEM_JSON
    return dumps(error_body(error)), JSON


def websocket_error(error: ThingtalkError) -> dict[str, Any]:
    """``error`` as a WebThings websocket message (the HTTP body plus the status line)."""
    return {"messageType": "error", "data": {"status": status_line(error), **error_body(error)}}

"""The JSON body of an error: one shape over HTTP, websockets and MQTT."""

from __future__ import annotations

from typing import Any

from ..errors import ThingtalkError


def error_body(error: ThingtalkError) -> dict[str, Any]:
    """The JSON body of an error: ``{"error": code, "message": text}``."""
    return {"error": error.code, "message": error.message}

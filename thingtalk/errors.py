"""The one error hierarchy of the library, and its wire shape."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any


class ThingtalkError(Exception):
    """Base of every error the library reports to a client.

    Each subclass fixes an HTTP status and a short machine-readable code; the
    protocols layer maps any instance to one JSON body (REST, websocket, or RFC 9457
    Problem Details on the W3C routes) in one place.
    """

    status: int = HTTPStatus.INTERNAL_SERVER_ERROR
    code: str = "internal-error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_json(self) -> dict[str, Any]:
        """The JSON body: ``{"error": code, "message": text}``."""
        return {"error": self.code, "message": self.message}

    @property
    def status_line(self) -> str:
        """``"400 Bad Request"``, as WebThings websocket errors carry it."""
        return f"{self.status} {HTTPStatus(self.status).phrase}"


class BadRequest(ThingtalkError):
    """The request is malformed: broken JSON, a wrong shape, an unknown message type."""

    status = HTTPStatus.BAD_REQUEST
    code = "bad-request"


class InvalidValue(BadRequest):
    """A value does not satisfy its property's or action's schema."""

    code = "invalid-value"


class ReadOnly(BadRequest):
    """A client tried to write a read-only property."""

    code = "read-only"


class NotFound(ThingtalkError):
    """An unknown thing, property, action, action request or event."""

    status = HTTPStatus.NOT_FOUND
    code = "not-found"


class Forbidden(ThingtalkError):
    """The request is refused, e.g. a Host header that fails the DNS-rebinding check."""

    status = HTTPStatus.FORBIDDEN
    code = "forbidden"


class MethodNotAllowed(ThingtalkError):
    """The resource exists but does not answer this method."""

    status = HTTPStatus.METHOD_NOT_ALLOWED
    code = "method-not-allowed"


class PayloadTooLarge(ThingtalkError):
    """The request body is larger than the server accepts."""

    status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    code = "payload-too-large"


class NotAcceptable(ThingtalkError):
    """No representation matches the client's Accept header."""

    status = HTTPStatus.NOT_ACCEPTABLE
    code = "not-acceptable"


class Busy(ThingtalkError):
    """Too many action requests are still running to accept another."""

    status = HTTPStatus.SERVICE_UNAVAILABLE
    code = "busy"

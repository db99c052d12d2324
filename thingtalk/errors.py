"""The one error hierarchy of the library.

Each class fixes an HTTP status and a short machine-readable code; the protocols layer maps
any instance to one wire shape (:mod:`thingtalk.protocols.wire`). Each also inherits the
builtin exception plain Python code would catch (``NotFound`` is a ``LookupError``,
``InvalidValue`` a ``ValueError``), so a program driving things needs no web vocabulary.
"""

from __future__ import annotations

from http import HTTPStatus


class ThingtalkError(Exception):
    """Base of every error the library reports to a client."""

    status: int = HTTPStatus.INTERNAL_SERVER_ERROR
    code: str = "internal-error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(ThingtalkError, ValueError):
    """The request is malformed: broken JSON, a wrong shape, an unknown message type."""

    status = HTTPStatus.BAD_REQUEST
    code = "bad-request"


class InvalidValue(BadRequest):
    """A value does not satisfy its property's or action's schema."""

    code = "invalid-value"


class ReadOnly(BadRequest):
    """A client tried to write a read-only property."""

    code = "read-only"


class NotFound(ThingtalkError, LookupError):
    """An unknown thing, property, action, action request or event."""

    status = HTTPStatus.NOT_FOUND
    code = "not-found"


class Unauthorized(ThingtalkError):
    """The request needs a bearer token and carried none, or one that is not accepted."""

    status = HTTPStatus.UNAUTHORIZED
    code = "unauthorized"


class Forbidden(ThingtalkError):
    """The request is refused: a Host that is not this machine (DNS rebinding), or a web page
    of another origin."""

    status = HTTPStatus.FORBIDDEN
    code = "forbidden"


class MethodNotAllowed(ThingtalkError):
    """The resource exists but does not answer this method."""

    status = HTTPStatus.METHOD_NOT_ALLOWED
    code = "method-not-allowed"


class PayloadTooLarge(ThingtalkError, ValueError):
    """The request body is larger than the server accepts."""

    status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    code = "payload-too-large"


class DeviceError(ThingtalkError):
    """The device behind a property refused or failed a write (its forwarder raised)."""

    status = HTTPStatus.BAD_GATEWAY
    code = "device-error"


class UnsupportedMediaType(ThingtalkError, ValueError):
    """A request body that is not JSON (``Content-Type`` must say ``application/json``)."""

    status = HTTPStatus.UNSUPPORTED_MEDIA_TYPE
    code = "unsupported-media-type"


class Busy(ThingtalkError):
    """Too many action requests are still running to accept another."""

    status = HTTPStatus.SERVICE_UNAVAILABLE
    code = "busy"


class Unavailable(ThingtalkError):
    """The server cannot take the request now: a change it could not save, a connection over
    the cap. Nothing changed; the same request may succeed later."""

    status = HTTPStatus.SERVICE_UNAVAILABLE
    code = "unavailable"


class ActionFailed(ThingtalkError):
    """A synchronous action ended without completing (it failed or was cancelled)."""

    status = HTTPStatus.INTERNAL_SERVER_ERROR
    code = "action-failed"

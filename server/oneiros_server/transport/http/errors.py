"""The HTTP error table: a call's status name (``dataplane.outcomes``) -> HTTP status and JSON body.

Bodies follow the JSON form of ``google.rpc.Status`` that Google's HTTP APIs use::

    {"error": {"code": 400, "status": "INVALID_ARGUMENT", "message": "...",
               "details": [{"@type": "type.googleapis.com/google.rpc.BadRequest",
                            "fieldViolations": [{"field": "...", "description": "..."}]}]}}

Only domain errors' messages reach the client; anything else is INTERNAL with a generic message.
"""

from __future__ import annotations

import math

from oneiros_server import errors
from oneiros_server.dataplane.outcomes import INTERNAL_MESSAGE, outcome, public_message

HTTP_STATUS: dict[str, int] = {
    "INVALID_ARGUMENT": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "NOT_FOUND": 404,
    "FAILED_PRECONDITION": 422,
    "RESOURCE_EXHAUSTED": 429,
    "CANCELLED": 499,  # the client closed the request (nginx's convention); nobody reads it
    "INTERNAL": 500,
    "UNIMPLEMENTED": 501,
    "UNAVAILABLE": 503,
    "DEADLINE_EXCEEDED": 504,
}
BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"
RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"
MAX_MESSAGE_CHARS = 2048


class HttpError(Exception):
    """An error found by the HTTP layer itself (bad JSON, wrong content type, body too large, no token).

    ``message`` is written for the client; ``status`` is the canonical status name that fits best.
    """

    def __init__(self, http_status: int, status: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.http_status = http_status
        self.status = status
        self.message = message
        self.headers = headers or {}


def printable(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """``text`` cut to ``limit`` characters and made encodable (a lone surrogate becomes '?')."""
    return text[:limit].encode("utf-8", "replace").decode("utf-8")


def unauthenticated(message: str) -> HttpError:
    return HttpError(401, "UNAUTHENTICATED", message, {"WWW-Authenticate": 'Bearer realm="oneiros"'})


def retry_after(exc: BaseException) -> str | None:
    """The ``Retry-After`` header (whole seconds, at least 1) for an overloaded or loading server."""
    if isinstance(exc, errors.Overloaded):
        return str(max(1, math.ceil(exc.retry_after_s)))
    if isinstance(exc, errors.ModelUnavailable | errors.ShuttingDown):
        return "1"
    return None


def describe(exc: BaseException) -> tuple[int, dict, dict[str, str]]:
    """(HTTP status, JSON body, extra headers) for a call that failed with ``exc``."""
    if isinstance(exc, HttpError):
        return exc.http_status, _body(exc.http_status, exc.status, exc.message, []), exc.headers
    name = outcome(exc)
    status = HTTP_STATUS.get(name, 500)
    message = public_message(exc) if status != 500 else INTERNAL_MESSAGE
    details: list[dict] = []
    headers: dict[str, str] = {}
    if isinstance(exc, errors.FieldError):
        violations = [{"field": printable(v.field), "description": printable(v.description)} for v in exc.violations]
        details.append({"@type": BAD_REQUEST, "fieldViolations": violations})
    if isinstance(exc, errors.Overloaded):
        details.append({"@type": RETRY_INFO, "retryDelay": f"{exc.retry_after_s:.3f}s"})
    delay = retry_after(exc)
    if delay is not None:
        headers["Retry-After"] = delay
    return status, _body(status, name, message, details), headers


def _body(code: int, status: str, message: str, details: list[dict]) -> dict:
    error: dict = {"code": code, "status": status, "message": printable(message)}
    if details:
        error["details"] = details
    return {"error": error}

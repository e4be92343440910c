"""The error table of API.md, in one place: domain error -> a transport-neutral status name.

Names are the canonical status codes (``google.rpc.Code``); the gRPC transport turns a
name into ``grpc.StatusCode[name]``, an HTTP transport would map it to an HTTP status.
Anything that is not a domain error is a bug: INTERNAL with a generic message (the log
has the traceback, the client never does).
"""

from __future__ import annotations

from oneiros_server import errors

OK = "OK"
INTERNAL = "INTERNAL"
INTERNAL_MESSAGE = "internal error; the server log has the details"

CODES: dict[type[errors.OneirosError], str] = {
    errors.FieldError: "INVALID_ARGUMENT",
    errors.ModelNotFound: "NOT_FOUND",
    errors.WrongModelKind: "FAILED_PRECONDITION",
    errors.NotLoaded: "FAILED_PRECONDITION",
    errors.PermissionDenied: "PERMISSION_DENIED",
    errors.ModelUnavailable: "UNAVAILABLE",
    errors.Overloaded: "RESOURCE_EXHAUSTED",
    errors.Cancelled: "CANCELLED",
    errors.DeadlineExceeded: "DEADLINE_EXCEEDED",
    errors.ShuttingDown: "UNAVAILABLE",
}


def outcome(exc: BaseException | None) -> str:
    """The status name of a call that ended with ``exc`` (None = OK)."""
    if exc is None:
        return OK
    for cls in type(exc).__mro__:
        if cls in CODES:
            return CODES[cls]
    return INTERNAL


def public_message(exc: BaseException) -> str:
    """What the client may read about ``exc``: its message if it is a domain error."""
    return exc.message if isinstance(exc, errors.OneirosError) else INTERNAL_MESSAGE

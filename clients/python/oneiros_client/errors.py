"""Exceptions raised by the Oneiros SDK, parsed from the gRPC rich status.

Every failed call raises a subclass of :class:`OneirosError` chosen by the
status code, so callers can write ``except NotFound:`` or branch on
``err.code``. Field errors carry ``field_violations`` (from
``google.rpc.BadRequest``) and overload errors ``retry_after_s`` (from
``google.rpc.RetryInfo``).
"""

from __future__ import annotations

from typing import Any

import grpc
from google.rpc import error_details_pb2, status_pb2

_DETAILS_KEY = "grpc-status-details-bin"


class OneirosError(Exception):
    """A failed Oneiros call.

    Attributes:
        code: the gRPC status code.
        message: the server's message (safe, human-readable).
        field_violations: ``(field, description)`` pairs for bad request fields,
            e.g. ``("latents[3]", "must hold 16 finite values")``.
        retry_after_s: the server's retry hint in seconds, if it sent one.
    """

    code: grpc.StatusCode = grpc.StatusCode.UNKNOWN

    def __init__(
        self,
        code: grpc.StatusCode,
        message: str,
        field_violations: list[tuple[str, str]] | None = None,
        retry_after_s: float | None = None,
    ):
        self.code = code
        self.message = message
        self.field_violations = list(field_violations or [])
        self.retry_after_s = retry_after_s
        super().__init__(str(self))

    @property
    def code_name(self) -> str:
        """The code's name, e.g. ``"INVALID_ARGUMENT"``."""
        return self.code.name

    @property
    def fields(self) -> list[str]:
        """The names of the offending fields (may be empty)."""
        return [f for f, _ in self.field_violations]

    def __str__(self) -> str:
        return f"{self.code.name}: {self.message}"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(code={self.code.name}, message={self.message!r}, "
            f"field_violations={self.field_violations!r}, retry_after_s={self.retry_after_s!r})"
        )


class InvalidArgument(OneirosError):
    """A request field is malformed or out of range (see ``field_violations``)."""


class NotFound(OneirosError):
    """Unknown model (or version)."""


class FailedPrecondition(OneirosError):
    """The model exists but is of the wrong kind for this RPC."""


class ResourceExhausted(OneirosError):
    """The server is at capacity (or a message is too large); retry later."""


class Unavailable(OneirosError):
    """The server is unreachable, shutting down, or the model is not loaded."""


class DeadlineExceeded(OneirosError):
    """The call's deadline passed before it finished."""


class Cancelled(OneirosError):
    """The call was cancelled."""


class Unauthenticated(OneirosError):
    """Missing or wrong bearer token / client certificate."""


class PermissionDenied(OneirosError):
    """The caller may not use this RPC or model."""


class Unimplemented(OneirosError):
    """The server does not implement this RPC (yet)."""


class Internal(OneirosError):
    """A server bug; the details are in the server's log."""


_BY_CODE: dict[grpc.StatusCode, type[OneirosError]] = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgument,
    grpc.StatusCode.OUT_OF_RANGE: InvalidArgument,
    grpc.StatusCode.NOT_FOUND: NotFound,
    grpc.StatusCode.FAILED_PRECONDITION: FailedPrecondition,
    grpc.StatusCode.RESOURCE_EXHAUSTED: ResourceExhausted,
    grpc.StatusCode.UNAVAILABLE: Unavailable,
    grpc.StatusCode.DEADLINE_EXCEEDED: DeadlineExceeded,
    grpc.StatusCode.CANCELLED: Cancelled,
    grpc.StatusCode.UNAUTHENTICATED: Unauthenticated,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDenied,
    grpc.StatusCode.UNIMPLEMENTED: Unimplemented,
    grpc.StatusCode.INTERNAL: Internal,
}


def error_class(code: grpc.StatusCode) -> type[OneirosError]:
    """The exception class raised for a status code."""
    return _BY_CODE.get(code, OneirosError)


def _rich_status(trailing_metadata: Any) -> status_pb2.Status | None:
    for key, value in trailing_metadata or ():
        if key == _DETAILS_KEY:
            status = status_pb2.Status()
            try:
                status.ParseFromString(value)
            except Exception:  # noqa: BLE001 - a garbled detail must not hide the error
                return None
            return status
    return None


def from_rpc_error(err: grpc.RpcError) -> OneirosError:
    """Convert a ``grpc.RpcError`` (sync or ``grpc.aio.AioRpcError``) to an OneirosError."""
    code = err.code() if callable(getattr(err, "code", None)) else grpc.StatusCode.UNKNOWN
    message = (err.details() if callable(getattr(err, "details", None)) else None) or ""
    metadata = err.trailing_metadata() if callable(getattr(err, "trailing_metadata", None)) else ()
    violations: list[tuple[str, str]] = []
    retry_after: float | None = None
    status = _rich_status(metadata)
    if status is not None:
        message = message or status.message
        for detail in status.details:
            if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                bad = error_details_pb2.BadRequest()
                detail.Unpack(bad)
                violations.extend((v.field, v.description) for v in bad.field_violations)
            elif detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
                info = error_details_pb2.RetryInfo()
                detail.Unpack(info)
                retry_after = info.retry_delay.seconds + info.retry_delay.nanos / 1e9
    return error_class(code)(code, message, violations, retry_after)

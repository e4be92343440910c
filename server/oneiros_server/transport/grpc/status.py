"""Domain error -> gRPC status with details (the table itself is ``dataplane.outcomes``)."""

from __future__ import annotations

import grpc
from google.protobuf import duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from oneiros_server import errors
from oneiros_server.dataplane.outcomes import outcome, public_message

# Every error must fit gRPC's metadata limit (8 KiB soft, 16 KiB hard) with room to spare: the
# message travels twice (grpc-message, percent-encoded; grpc-status-details-bin, base64), so each
# part has a byte budget. Long client values are cut at the source too (``errors.echo``).
MAX_MESSAGE_BYTES = 600
MAX_FIELD_BYTES = 100
MAX_DESCRIPTION_BYTES = 200
MAX_DETAILS_BYTES = 1800


def clip(text: str, max_bytes: int) -> str:
    """``text`` if its UTF-8 form fits ``max_bytes``, else a prefix that does, with the full length."""
    data = text.encode("utf-8", "replace")
    if len(data) <= max_bytes:
        return text
    suffix = f"... ({len(text)} characters)"
    head = data[: max(0, max_bytes - len(suffix))].decode("utf-8", "ignore")
    return head + suffix


def _violations(exc: errors.FieldError) -> list[error_details_pb2.BadRequest.FieldViolation]:
    """The first violations that fit the budget (at most MAX_VIOLATIONS), then one that counts the rest."""
    listed: list[error_details_pb2.BadRequest.FieldViolation] = []
    used = 0
    for v in exc.violations[: errors.MAX_VIOLATIONS]:
        item = error_details_pb2.BadRequest.FieldViolation(
            field=clip(v.field, MAX_FIELD_BYTES), description=clip(v.description, MAX_DESCRIPTION_BYTES)
        )
        if used + item.ByteSize() > MAX_DETAILS_BYTES:
            break
        listed.append(item)
        used += item.ByteSize()
    hidden = len(exc.violations) - len(listed)
    if hidden:
        listed.append(error_details_pb2.BadRequest.FieldViolation(field="", description=f"and {hidden} more"))
    return listed


def code_for(exc: BaseException | None) -> grpc.StatusCode:
    return grpc.StatusCode[outcome(exc)]


def to_status(exc: BaseException) -> grpc.Status:
    """A rich status for ``exc``: BadRequest details for field errors, RetryInfo when overloaded."""
    code = code_for(exc)
    status = status_pb2.Status(code=getattr(code_pb2, code.name), message=clip(public_message(exc), MAX_MESSAGE_BYTES))
    if isinstance(exc, errors.FieldError):
        status.details.add().Pack(error_details_pb2.BadRequest(field_violations=_violations(exc)))
    elif isinstance(exc, errors.Overloaded):
        delay = duration_pb2.Duration()
        delay.FromNanoseconds(int(exc.retry_after_s * 1e9))
        status.details.add().Pack(error_details_pb2.RetryInfo(retry_delay=delay))
    return rpc_status.to_status(status)

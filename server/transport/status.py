"""Domain error -> gRPC status with details (the table itself is ``dataplane.outcomes``)."""

from __future__ import annotations

import grpc
from google.protobuf import duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from oneiros_server import errors
from oneiros_server.dataplane.outcomes import outcome, public_message


def code_for(exc: BaseException | None) -> grpc.StatusCode:
    return grpc.StatusCode[outcome(exc)]


def to_status(exc: BaseException) -> grpc.Status:
    """A rich status for ``exc``: BadRequest details for field errors, RetryInfo when overloaded."""
    code = code_for(exc)
    status = status_pb2.Status(code=getattr(code_pb2, code.name), message=public_message(exc))
    if isinstance(exc, errors.FieldError):
        detail = error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
                for v in exc.violations
            ]
        )
        status.details.add().Pack(detail)
    elif isinstance(exc, errors.Overloaded):
        delay = duration_pb2.Duration()
        delay.FromNanoseconds(int(exc.retry_after_s * 1e9))
        status.details.add().Pack(error_details_pb2.RetryInfo(retry_delay=delay))
    return rpc_status.to_status(status)

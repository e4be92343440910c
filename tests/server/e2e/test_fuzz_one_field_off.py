"""One field off: from a valid request of each RPC, one field (or one repeated field) set to a hostile value.

Whatever the value, the answer is never INTERNAL or UNKNOWN, every error fits in its
trailer (a client can receive it), and the server keeps serving.
"""

from __future__ import annotations

import grpc
import pytest
from google.protobuf.descriptor import FieldDescriptor as FD
from google.protobuf.message import Message
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oneiros.v1 import oneiros_pb2 as pb
from oneiros_server.app import OneirosServer
from oneiros_server.settings import Settings
from tests.server.hostile import TRAILER_BUDGET, call, every_kind_repository, trailer_bytes, valid_requests

INT_TYPES = {FD.TYPE_INT32, FD.TYPE_INT64, FD.TYPE_UINT32, FD.TYPE_UINT64, FD.TYPE_SINT32, FD.TYPE_SINT64}
RANGES = {
    FD.TYPE_INT32: (-(2**31), 2**31 - 1),
    FD.TYPE_SINT32: (-(2**31), 2**31 - 1),
    FD.TYPE_INT64: (-(2**63), 2**63 - 1),
    FD.TYPE_SINT64: (-(2**63), 2**63 - 1),
    FD.TYPE_UINT32: (0, 2**32 - 1),
    FD.TYPE_UINT64: (0, 2**64 - 1),
}
ODD_TEXT = ["", "x" * 100_000, "\U0001f984" * 25_000, "\u202e\u0000\ufeff", "e\u0301" * 40, "\uffff", " ", "é" * 3]
FLOATS = [float("nan"), float("inf"), float("-inf"), 0.0, -0.0, 3.4e38, -3.4e38, 1e-45, 1.0, -1.0]
RPCS = sorted(valid_requests())


def _fields(message: Message, prefix: tuple = (), depth: int = 0) -> list[tuple]:
    """Every field path of the message type, nested messages included (two levels deep)."""
    paths = []
    for field in message.DESCRIPTOR.fields:
        paths.append((*prefix, field.name))
        is_map = field.message_type is not None and field.message_type.GetOptions().map_entry
        if field.type == FD.TYPE_MESSAGE and not is_map and depth < 2:
            inner = getattr(message, field.name)
            sample = inner.add() if field.is_repeated else inner
            paths += _fields(sample, (*prefix, field.name), depth + 1)
    return paths


def _scalar(draw, field: FD):
    if field.type == FD.TYPE_ENUM:
        return draw(st.sampled_from([3, 7, 99, -1, 2**31 - 1, -(2**31)]) | st.integers(-(2**31), 2**31 - 1))
    if field.type in INT_TYPES:
        low, high = RANGES[field.type]
        return draw(st.sampled_from([0, 1, low, high, high // 2]) | st.integers(low, high))
    if field.type in (FD.TYPE_FLOAT, FD.TYPE_DOUBLE):
        return draw(st.sampled_from(FLOATS))
    if field.type == FD.TYPE_STRING:
        return draw(st.sampled_from(ODD_TEXT) | st.text(max_size=20))
    if field.type == FD.TYPE_BYTES:
        return draw(st.sampled_from([b"", b"\x00" * 100_000, b"\x89PNG\r\n\x1a\n"]) | st.binary(max_size=64))
    if field.type == FD.TYPE_BOOL:
        return draw(st.booleans())
    raise AssertionError(field.type)


def _set(draw, message: Message, path: tuple) -> None:
    *parents, name = path
    for part in parents:
        child = getattr(message, part)
        if message.DESCRIPTOR.fields_by_name[part].is_repeated:
            child = child[0] if len(child) else child.add()
        message = child
    field = message.DESCRIPTOR.fields_by_name[name]
    is_map = field.message_type is not None and field.message_type.GetOptions().map_entry
    if is_map:
        value_field = field.message_type.fields_by_name["value"]
        entries = draw(st.integers(1, 300))
        getattr(message, name).clear()
        for i in range(entries):
            key = draw(st.sampled_from(ODD_TEXT)) + str(i)
            getattr(message, name)[key] = _scalar(draw, value_field)
    elif field.type == FD.TYPE_MESSAGE:
        target = getattr(message, name)
        if field.is_repeated:
            prototype = target[0] if len(target) else None
            for _ in range(draw(st.integers(0, 300))):
                item = target.add()
                if prototype is not None:
                    item.CopyFrom(prototype)
        else:
            message.ClearField(name) if draw(st.booleans()) else target.SetInParent()
    elif field.is_repeated:
        value = _scalar(draw, field)
        del getattr(message, name)[:]
        getattr(message, name).extend([value] * draw(st.integers(0, 300)))
    else:
        setattr(message, name, _scalar(draw, field))


@st.composite
def one_field_off(draw, rpc: str):
    request = valid_requests()[rpc]
    path = draw(st.sampled_from(_fields(type(request)())))
    _set(draw, request, path)
    return path, request


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    repo = every_kind_repository(tmp_path_factory.mktemp("models"))
    settings_ = Settings(host="127.0.0.1", port=0, metrics_port=-1, model_repository=repo, log_json=False)
    server = OneirosServer(settings_.model_copy(update={"torch_threads": 1, "job_max_steps": 200}))
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    yield pb, channel
    channel.close()
    server.stop(grace=0)


def _has_retry_info(err: grpc.RpcError) -> bool:
    status = rpc_status.from_call(err)
    return status is not None and any(d.Is(error_details_pb2.RetryInfo.DESCRIPTOR) for d in status.details)


@pytest.mark.parametrize("rpc", RPCS)
def test_one_hostile_field_never_breaks_the_server(running, rpc):
    from oneiros.v1 import oneiros_pb2_grpc

    stub = oneiros_pb2_grpc.OneirosStub(running[1])

    @settings(max_examples=16, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(case=one_field_off(rpc))
    def check(case):
        path, request = case
        try:
            call(stub, rpc, request)
        except grpc.RpcError as err:
            code = err.code()
            assert code not in (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN), (path, err.details())
            assert code != grpc.StatusCode.RESOURCE_EXHAUSTED or _has_retry_info(err), (path, err.details())
            assert trailer_bytes(err) < TRAILER_BUDGET, (path, trailer_bytes(err))
        assert len(stub.Decode(pb.DecodeRequest(count=1, seed=0), timeout=30).images) == 1  # still serving

    check()

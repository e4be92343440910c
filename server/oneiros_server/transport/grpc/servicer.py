"""The Oneiros service on grpc.aio: one method per entry of the RPC table (``transport.rpcs``),
each running through ``GrpcCalls``."""

from __future__ import annotations

from oneiros.v1 import oneiros_pb2_grpc
from oneiros_server.dataplane import Dataplane
from oneiros_server.transport.grpc.calls import GrpcCalls
from oneiros_server.transport.rpcs import RPCS


class OneirosServicer(oneiros_pb2_grpc.OneirosServicer):
    def __init__(self, plane: Dataplane):
        calls = GrpcCalls(plane)
        for rpc in RPCS:
            setattr(self, rpc.rpc, calls.unary_method(rpc))
            if rpc.stream_handler is not None:
                setattr(self, rpc.stream_rpc, calls.stream_method(rpc))

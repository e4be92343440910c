"""The dataplane between transports and engines (see ``plane.py``; docs/architecture.md).

    transport (grpc.aio, HTTP): wire format <-> engine types (transport.convert)
        -> Dataplane: admit (lifecycle), resolve the engine, validate once, submit, stream
        -> engines (the protocol of engines.base) on their own threads (batchers, job pools)
        <- events handed back through loop-safe futures and one-slot buffers; the last is the result

Nothing here imports grpc, protobuf or any engine.
"""

from oneiros_server.dataplane.lifecycle import Call, ServerState
from oneiros_server.dataplane.outcomes import outcome, public_message
from oneiros_server.dataplane.plane import Dataplane

__all__ = ["Call", "Dataplane", "ServerState", "outcome", "public_message"]

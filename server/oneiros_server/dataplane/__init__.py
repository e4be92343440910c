"""The dataplane between transports and engines (see ``plane.py``).

    transport (grpc.aio; one day HTTP): wire format <-> engine types
        -> Dataplane: resolve model, validate once, admit, dispatch, meter, stream
        -> engines on their own threads (batchers, job pools)
        <- results and events handed back through loop-safe futures and one-slot buffers

Nothing here imports grpc.
"""

from oneiros_server.dataplane.lifecycle import Call, ServerState
from oneiros_server.dataplane.outcomes import outcome, public_message
from oneiros_server.dataplane.plane import Dataplane

__all__ = ["Call", "Dataplane", "ServerState", "outcome", "public_message"]

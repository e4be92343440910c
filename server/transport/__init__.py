"""Transport: where a request enters. The only layer that imports grpc/protobuf.

- ``servicer.py``: the Oneiros service on grpc.aio; each RPC delegates to a family module.
- ``calls.py``: how every call runs (request id, the dataplane's lifecycle, errors -> status).
- ``status.py``: domain error -> rich gRPC status (the table is ``dataplane.outcomes``).
- ``<family>.py``: per RPC family, ``async handler(plane, call, request) -> response`` (an
  async generator for streams): convert proto -> engine types, call the ``Dataplane``,
  convert back. ``models.py`` is the simplest example.
"""

"""Transport: where a request enters. The only layer that imports grpc/protobuf.

- ``servicer.py``: the Oneiros service; each RPC delegates to a handler.
- ``calls.py``: how every call runs (admission, cancellation/deadline, errors, logs).
- ``status.py``: the error table (domain error -> gRPC status + details).
- ``<family>.py``: per RPC family, ``handler(repo, request, control) -> response``
  (a generator for streams): validate and convert proto -> engine dataclasses,
  call the engine, convert back. ``models.py`` is the simplest example.
"""

"""Transport: where a request enters. The only layer that imports grpc, protobuf or Starlette.

- ``rpcs.py``: the RPC table, one entry per RPC family, read by both transports.
- ``handlers.py``: how an admitted call runs, for both: enum checks, engine, convert in, run, convert out.
- ``policy.py``: bearer tokens and request ids, decided once for both.
- ``grpc/``: the Oneiros service on grpc.aio (servicer made from the table, how a call runs, errors -> status, health, auth).
- ``http/``: the same RPCs and an OpenAI-compatible ``/v1/completions`` over HTTP/JSON (Starlette on uvicorn).
- ``convert/``: per RPC family, protobuf <-> engine types (and images, PNG), shared by both transports.
"""

"""Transport: where a request enters. The only layer that imports grpc, protobuf or Starlette.

- ``grpc/``: the Oneiros service on grpc.aio (servicer, how a call runs, errors -> status, health, auth).
- ``http/``: the same RPCs and an OpenAI-compatible ``/v1/completions`` over HTTP/JSON (Starlette on uvicorn).
- ``convert/``: per RPC family, protobuf <-> engine types (and images, PNG), shared by both transports.
"""

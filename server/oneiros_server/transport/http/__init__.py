"""The HTTP/JSON transport: the Oneiros RPCs and an OpenAI-compatible /v1/completions over the
same dataplane as gRPC, served by uvicorn in the gRPC server's event loop.

- ``server.py``: uvicorn on its own port, started and stopped with the gRPC server.
- ``app.py``: the Starlette app: a route per entry of the RPC table (``transport.rpcs``, which gRPC
  reads too), the OpenAPI document, health, unknown paths.
- ``native.py``: the RPC endpoints (JSON, images with ``Accept``, ``/stream`` as SSE).
- ``openai.py``: ``POST /v1/completions`` (``openai_schema.py``: its OpenAPI part).
- ``calls.py``: auth and request id (``transport.policy``), deadline, admission, disconnect -> cancellation.
- ``codec.py``: bodies (JSON, multipart, urlencoded) <-> proto, in the canonical JSON mapping.
- ``bodies.py``: bodies read within per-route size and time limits, converted on a bounded pool;
  ``shapes.py``: the caps on every list, string and number; ``forms.py``: form bodies.
- ``wire.py``: header time, size and count limits (uvicorn's protocol, guarded).
- ``origins.py``: cross-site requests refused (Origin, Sec-Fetch-Site, loopback Host).
- ``errors.py``: the status name -> HTTP status table and the error body.
- ``sse.py``: server-sent events; ``merge.py``: several streams as one.
- ``openapi.py``: ``/openapi.json`` from the proto descriptors.
"""

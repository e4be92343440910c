"""Oneiros server: gRPC transport, model repository, engines and runtimes.

A request enters in ``oneiros_server.transport`` (decode proto, validate, admit), reaches an
engine in ``oneiros_server.engines`` (plain Python/numpy/torch types, no grpc), which runs on
a runtime from ``oneiros_server.runtime`` (ONNX Runtime session or torch module) loaded from
the model repository by ``oneiros_server.repository``.
"""

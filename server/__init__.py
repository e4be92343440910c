"""Oneiros server: gRPC transport, model repository, engines and runtimes.

A request enters in ``server.transport`` (decode proto, validate, admit), reaches an
engine in ``server.engines`` (plain Python/numpy/torch types, no grpc), which runs on
a runtime from ``server.runtime`` (ONNX Runtime session or torch module) loaded from
the model repository by ``server.repository``.
"""

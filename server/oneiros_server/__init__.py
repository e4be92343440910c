"""Oneiros server: gRPC and HTTP transports, the dataplane, engines, runtimes and the model repository.

A request enters in ``oneiros_server.transport`` (admit, convert the wire message), lives its
life in ``oneiros_server.dataplane`` (resolve the engine, validate once, submit, stream), runs
on an engine of ``oneiros_server.engines`` (plain Python/numpy/torch types, found by model kind
in ``engines.registry``) with ``oneiros_server.scheduling``'s batchers and pools, on a runtime
of ``oneiros_server.runtime`` (ONNX Runtime session or torch module), for a model that
``oneiros_server.repository`` loaded. docs/architecture.md follows one request through them.
"""

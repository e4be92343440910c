"""Runtimes: how an engine runs what the model repository holds (ONNX Runtime sessions, step
runtimes, torch modules), in the caller's thread; batching is ``oneiros_server.scheduling``'s."""

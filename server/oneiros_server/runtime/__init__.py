"""Runtimes: how an engine runs what the model repository holds (ONNX Runtime sessions, torch modules)."""

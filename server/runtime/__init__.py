"""Runtimes: what executes a model (ONNX Runtime sessions, torch modules)."""

"""Export trained models to ONNX and write their ``models/<name>/<version>/model.json``."""

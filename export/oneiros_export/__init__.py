"""Export: trained torch models -> ONNX files + ``model.json`` in the model repository."""

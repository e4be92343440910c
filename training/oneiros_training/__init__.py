"""Training: PyTorch models and the data they learn from (offline sources only)."""

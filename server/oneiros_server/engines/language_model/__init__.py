"""LANGUAGE_MODEL: character-level sampling under continuous batching (GRU or Transformer step runtimes)."""

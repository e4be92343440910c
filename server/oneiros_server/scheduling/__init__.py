"""Scheduling: how work reaches the runtimes (loop and continuous batching, job pools, one-slot
hand-offs, ``CallControl``). Engines use it; nothing here knows a model or an RPC."""

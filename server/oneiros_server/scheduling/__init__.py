"""Scheduling: how work reaches the runtimes (loop, dynamic and continuous batching, job pools, one-slot hand-offs)."""

"""Engines: one package per kind of model, plain Python/numpy/torch in, plain types out.

``base`` is the protocol every engine follows (``validate`` once, then ``submit`` whose
last event is the result); ``registry`` maps a ``model.json`` kind to the factory that
loads it. To add a kind behind an existing RPC: write ``engines/<kind>/engine.py`` with a
``load`` factory (plus a runtime if it needs one) and register it (docs/architecture.md).
"""

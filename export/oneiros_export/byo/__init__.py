"""Bring your own model: ``oneiros-export keras`` and ``oneiros-export torch`` turn a reader's
Keras 3 file or torch module into a model version the server loads (``oneiros_export.cli``)."""


class Refused(Exception):
    """A model that cannot be served as asked; the message is one line naming the problem."""

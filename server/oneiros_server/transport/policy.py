"""The per-call policies both transports apply the same way: bearer tokens and request ids.

Each transport reads the header its way (gRPC metadata, HTTP headers) and answers its way
(UNAUTHENTICATED, 401); what is accepted is decided here. The deadline is the dataplane's:
the transport passes the call's timeout to ``Dataplane.open``, which gives the call its
``CallControl``.
"""

from __future__ import annotations

import hmac
import uuid
from collections.abc import Iterable
from pathlib import Path

MAX_REQUEST_ID = 64
MISSING_TOKEN = "missing bearer token"
INVALID_TOKEN = "the bearer token is not valid"


def load_tokens(inline: str, path: Path | None) -> list[str]:
    """Tokens from ``inline`` (comma-separated) and from a file (one per line, # comments)."""
    tokens = [t.strip() for t in inline.split(",") if t.strip()]
    if path is not None:
        for line in Path(path).read_text().splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                tokens.append(line)
    return tokens


class Tokens:
    """The accepted bearer tokens (none = auth is off)."""

    def __init__(self, tokens: Iterable[str]):
        self._tokens = [t.encode() for t in tokens]

    @property
    def enabled(self) -> bool:
        return bool(self._tokens)

    def problem(self, authorization: str) -> str | None:
        """None when the ``Authorization`` value carries a known token (or auth is off), else
        what is wrong: ``MISSING_TOKEN`` or ``INVALID_TOKEN``."""
        if not self._tokens:
            return None
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return MISSING_TOKEN
        candidate = token.strip().encode()
        # Compare against every token so timing does not reveal which one matched.
        if not any([hmac.compare_digest(candidate, t) for t in self._tokens]):
            return INVALID_TOKEN
        return None


def request_id(given: str | None) -> tuple[str, bool]:
    """The caller's request id (cut to ``MAX_REQUEST_ID`` characters, True) or a new one (False)."""
    if given:
        return given[:MAX_REQUEST_ID], True
    return uuid.uuid4().hex[:16], False

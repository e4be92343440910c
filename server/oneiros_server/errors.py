"""Domain errors. They carry no gRPC codes: ``oneiros_server.transport.grpc.status`` maps them."""

from __future__ import annotations

from dataclasses import dataclass

ECHO_CHARS = 64  # longest client value repeated back in an error
MAX_VIOLATIONS = 20  # field violations listed per error; the rest are counted


def short(text: str, limit: int = ECHO_CHARS) -> str:
    """``text`` cut to ``limit`` characters, with its full length (for field paths such as map keys)."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def echo(value: str, limit: int = ECHO_CHARS) -> str:
    """A client's string quoted for an error message, cut to ``limit`` characters with its full length."""
    return repr(value) if len(value) <= limit else f"{value[:limit]!r}... ({len(value)} characters)"


class OneirosError(Exception):
    """Base of every error a client may see; ``message`` is safe to send."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Violation:
    field: str
    description: str


class FieldError(OneirosError):
    """A request field is malformed or out of range (INVALID_ARGUMENT)."""

    def __init__(self, field: str, description: str, *more: Violation):
        self.violations = (Violation(field, description), *more)
        listed = "; ".join(f"{v.field}: {v.description}" for v in self.violations[:MAX_VIOLATIONS])
        hidden = len(self.violations) - MAX_VIOLATIONS
        super().__init__(listed + (f"; and {hidden} more" if hidden > 0 else ""))

    @property
    def field(self) -> str:
        return self.violations[0].field


class ModelNotFound(OneirosError):
    """No model of that name (and version) in the repository (NOT_FOUND)."""


class WrongModelKind(OneirosError):
    """The model exists but cannot serve this RPC (FAILED_PRECONDITION)."""


class NotLoaded(OneirosError):
    """Nothing is loaded that could answer (no default for the RPC, the control API off) (FAILED_PRECONDITION)."""


class PermissionDenied(OneirosError):
    """The caller's credentials do not allow this (PERMISSION_DENIED)."""


class ModelUnavailable(OneirosError):
    """The model failed to load or is not ready yet (UNAVAILABLE)."""


class Overloaded(OneirosError):
    """A bounded queue is full (RESOURCE_EXHAUSTED); retry after ``retry_after_s``."""

    def __init__(self, message: str, retry_after_s: float = 1.0):
        super().__init__(message)
        self.retry_after_s = retry_after_s


class Cancelled(OneirosError):
    """The client cancelled the call; the work was stopped (CANCELLED)."""


class DeadlineExceeded(OneirosError):
    """The client's deadline passed; the work was stopped (DEADLINE_EXCEEDED)."""


class ShuttingDown(OneirosError):
    """The server is draining and takes no new work (UNAVAILABLE)."""

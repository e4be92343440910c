"""Python SDK for Oneiros, the gRPC service for the generative models of DLwP ch. 12.

from oneiros_client import Client

with Client("localhost:50051", timeout=30) as client:
    grid = client.decode(grid=(0, 1, 15)).images
"""

from ._channel import RetryPolicy
from .aio import AsyncClient
from .client import Client
from .errors import (
    Cancelled,
    DeadlineExceeded,
    FailedPrecondition,
    Internal,
    InvalidArgument,
    NotFound,
    OneirosError,
    PermissionDenied,
    ResourceExhausted,
    Unauthenticated,
    Unavailable,
    Unimplemented,
)
from .images import make_grid
from .types import (
    Completion,
    DecodeResult,
    DreamResult,
    EditResult,
    Grid,
    ModelInfo,
    Progress,
    SampleChunk,
    StylizeResult,
)

__all__ = [
    "AsyncClient",
    "Cancelled",
    "Client",
    "Completion",
    "DeadlineExceeded",
    "DecodeResult",
    "DreamResult",
    "EditResult",
    "FailedPrecondition",
    "Grid",
    "Internal",
    "InvalidArgument",
    "ModelInfo",
    "NotFound",
    "OneirosError",
    "PermissionDenied",
    "Progress",
    "ResourceExhausted",
    "RetryPolicy",
    "SampleChunk",
    "StylizeResult",
    "Unauthenticated",
    "Unavailable",
    "Unimplemented",
    "make_grid",
]

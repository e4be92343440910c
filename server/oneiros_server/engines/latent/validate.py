"""Model-dependent checks of Decode/EditLatent fields; each failure names its proto field path."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from oneiros_server.errors import FieldError, echo

MAX_ABS_LATENT = 1000.0  # far outside any prior's mass, still finite through the decoder
MAX_ABS_STRENGTH = 100.0


class Validator:
    """One model's checks: latent size, attribute names, the most images a request may ask for."""

    def __init__(self, latent_size: int, attributes: Sequence[str], max_images: int):
        self.latent_size = latent_size
        self.attributes = list(attributes)
        self.max_images = max_images
        self.max_abs = MAX_ABS_LATENT

    def latent(self, field: str, values: Sequence[float]) -> np.ndarray:
        """A (D,) float32 latent, or FieldError naming ``field``."""
        try:
            z = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError):
            raise FieldError(field, f"must be {self.latent_size} numbers") from None
        if z.ndim != 1 or z.shape[0] != self.latent_size:
            raise FieldError(field, f"has {z.size} values; this model's latents have {self.latent_size}")
        bad = np.flatnonzero(~np.isfinite(z))
        if bad.size:
            raise FieldError(field, f"values[{bad[0]}] is {z[bad[0]]}; latents must be finite numbers")
        big = np.flatnonzero(np.abs(z) > MAX_ABS_LATENT)
        if big.size:
            raise FieldError(
                field, f"values[{big[0]}] is {z[big[0]]:g}; allowed [-{MAX_ABS_LATENT:g}, {MAX_ABS_LATENT:g}]"
            )
        return z.astype(np.float32)

    def count(self, field: str, n: int) -> int:
        if not 1 <= n <= self.max_images:
            raise FieldError(field, f"asks for {n} images; allowed 1 to {self.max_images} per request")
        return n

    def strength(self, field: str, value: float) -> float:
        if not (np.isfinite(value) and abs(value) <= MAX_ABS_STRENGTH):
            raise FieldError(field, f"is {value}; allowed [-{MAX_ABS_STRENGTH:g}, {MAX_ABS_STRENGTH:g}]")
        return float(value)

    def attribute(self, field: str, name: str, vectors: Mapping[str, np.ndarray]) -> np.ndarray:
        if name not in vectors:
            known = ", ".join(vectors) or "none"
            raise FieldError(field, f"unknown attribute {echo(name)}; this model has: {known}")
        return vectors[name]

    def finite_points(self, field: str, z: np.ndarray) -> None:
        if not np.all(np.isfinite(z)):
            raise FieldError(field, "the edited latents are not finite; use smaller strengths")

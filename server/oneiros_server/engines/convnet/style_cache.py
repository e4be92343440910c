"""A bounded LRU cache of style targets (Gram matrices), shared by all Stylize requests.

The key is the style image's pixels (a SHA-256), the layers, the colour mode and
the size the style is analysed at; repeating a style skips its forward pass.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

import numpy as np
from torch import Tensor


@dataclass(frozen=True)
class StyleKey:
    digest: str  # SHA-256 of the decoded style pixels and their shape
    layers: tuple[str, ...]
    size: tuple[int, int]  # (height, width) the style is analysed at
    luminance: bool  # True when only the luminance is transferred (preserve_color)

    @classmethod
    def of(cls, pixels: np.ndarray, layers: list[str], size: tuple[int, int], luminance: bool) -> StyleKey:
        digest = hashlib.sha256(repr(pixels.shape).encode())
        digest.update(np.ascontiguousarray(pixels).data)
        return cls(digest.hexdigest(), tuple(sorted(layers)), size, luminance)


class StyleCache:
    """Thread-safe LRU of ``key -> {layer: Gram}``; ``entries = 0`` disables it."""

    def __init__(self, entries: int):
        self.entries = entries
        self.hits = 0
        self.misses = 0
        self._items: OrderedDict[Hashable, dict[str, Tensor]] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_compute(self, key: Hashable, compute: Callable[[], dict[str, Tensor]]) -> dict[str, Tensor]:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                self.hits += 1
                return found
            self.misses += 1
        value = compute()  # outside the lock: other requests go on meanwhile
        if self.entries > 0:
            with self._lock:
                self._items[key] = value
                self._items.move_to_end(key)
                while len(self._items) > self.entries:
                    self._items.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

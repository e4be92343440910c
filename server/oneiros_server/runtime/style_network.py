"""A feed-forward style network (ONNX, ``STYLE_NETWORK``): any image size in, the same size out.

The graph takes ``(B, 3, H, W)`` RGB in [0, 1] with H and W multiples of ``multiple``
(two stride-2 convolutions: 4) and returns the same shape. ``StyleNetworkRunner`` pads
each image by reflection up to the next multiple and crops the output back, so every
size works. ``run_batch`` takes padded images of any sizes, one session run per size
present (the engine's batcher calls it on its own thread: a run takes tens to hundreds
of milliseconds, too long for the event loop). Instance normalisation works per image,
so a batched output equals the single one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from oneiros_server.runtime.onnx import create_session, device_of
from oneiros_server.settings import Settings


def pad_to_multiple(image: np.ndarray, multiple: int) -> np.ndarray:
    """(H, W, 3) -> (1, 3, H', W') float32, H' and W' the next multiples, reflection-padded."""
    h, w = image.shape[:2]
    pad_h, pad_w = -h % multiple, -w % multiple
    padded = np.pad(image, ((0, pad_h), (0, pad_w), (0, 0)), mode="reflect" if min(h, w) > multiple else "edge")
    return np.ascontiguousarray(padded.transpose(2, 0, 1)[None], dtype=np.float32)


def crop_back(output: np.ndarray, height: int, width: int) -> np.ndarray:
    """(1, 3, H', W') -> (height, width, 3), clipped to [0, 1]."""
    return np.clip(output[0, :, :height, :width].transpose(1, 2, 0), 0.0, 1.0)


class StyleNetworkRunner:
    """One style network's ONNX session; ``run`` stylises one (H, W, 3) image, ``run_batch`` many padded ones."""

    def __init__(self, path: Path, settings: Settings, multiple: int = 4, intra_op_threads: int | None = None):
        self.session = create_session(path, settings, intra_op_threads)
        self.device = device_of(self.session)
        self.input_name = self.session.get_inputs()[0].name
        self.output_name = self.session.get_outputs()[0].name
        self.multiple = multiple
        self.calls = 0  # session runs, for tests

    def _session_run(self, x: np.ndarray) -> np.ndarray:
        self.calls += 1
        return self.session.run([self.output_name], {self.input_name: x})[0]

    def run_batch(self, items: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Padded (1, 3, H, W) inputs -> outputs: one session run per distinct size."""
        by_shape: dict[tuple[int, ...], list[int]] = defaultdict(list)
        for i, x in enumerate(items):
            by_shape[x.shape].append(i)
        results: list[np.ndarray] = [np.empty(0)] * len(items)
        for indices in by_shape.values():
            out = self._session_run(np.concatenate([items[i] for i in indices]))
            for row, i in enumerate(indices):
                results[i] = out[row : row + 1]
        return results

    def run(self, image: np.ndarray) -> np.ndarray:
        """(H, W, 3) float in [0, 1] -> the stylised (H, W, 3) float32, in this thread."""
        out = self._session_run(pad_to_multiple(image, self.multiple))
        return crop_back(out, *image.shape[:2])

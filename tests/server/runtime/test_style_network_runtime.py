"""The style network's runtime: padding to a multiple of 4 and back, and batching that changes nothing."""

from __future__ import annotations

import asyncio

import numpy as np

from oneiros_server.runtime.style_network import StyleNetworkRunner, crop_back, pad_to_multiple
from oneiros_server.settings import Settings
from tests.style_models import NAME, picture, tiny_style_repository


def _runner(tmp_path, **settings) -> StyleNetworkRunner:
    path = tiny_style_repository() / NAME / "1" / "model.onnx"
    return StyleNetworkRunner(path, Settings(model_repository=tmp_path, **settings), "test")


def _image(width: int, height: int, seed: int) -> np.ndarray:
    return picture(width, height, seed).astype(np.float32) / 255


def test_padding_reaches_a_multiple_and_cropping_undoes_it():
    image = _image(45, 37, 0)
    padded = pad_to_multiple(image, 4)
    assert padded.shape == (1, 3, 40, 48)
    assert np.array_equal(crop_back(padded, 37, 45), image)
    assert np.array_equal(padded[0, :, 37, :45], padded[0, :, 35, :45])  # reflected, not zeros


def test_batched_outputs_equal_single_outputs(tmp_path):
    runner = _runner(tmp_path)
    images = [_image(45, 37, 0), _image(45, 37, 1), _image(30, 22, 2), _image(45, 37, 3)]
    single = [runner.run(image) for image in images]

    async def together():
        return await asyncio.gather(*(runner.run_async(image) for image in images))

    batched = asyncio.run(together())
    runner.close()
    assert runner.batcher.stats.largest == 4  # one batch: two sizes, two session runs
    assert runner.calls == len(images) + 2
    for one, many in zip(single, batched):
        assert one.shape == many.shape
        assert np.array_equal(one, many)  # instance norm is per image: batching changes no value

"""The style network's runtime: padding to a multiple of 4 and back, and batching that changes nothing."""

from __future__ import annotations

import numpy as np

from oneiros_server.runtime.style_network import StyleNetworkRunner, crop_back, pad_to_multiple
from oneiros_server.settings import Settings
from tests.style_models import NAME, picture, tiny_style_repository


def _runner(tmp_path, **settings) -> StyleNetworkRunner:
    path = tiny_style_repository() / NAME / "1" / "model.onnx"
    return StyleNetworkRunner(path, Settings(model_repository=tmp_path, **settings))


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
    outputs = runner.run_batch([pad_to_multiple(image, 4) for image in images])  # one batch of two sizes
    batched = [crop_back(out, *image.shape[:2]) for out, image in zip(outputs, images)]
    assert runner.calls == len(images) + 2  # the batch took one session run per size
    for one, many in zip(single, batched):
        assert one.shape == many.shape
        assert np.array_equal(one, many)  # instance norm is per image: batching changes no value


def _threads(runner: StyleNetworkRunner) -> int:
    return runner.session.get_session_options().intra_op_num_threads


def test_a_network_runs_on_its_own_thread_count_else_the_servers(tmp_path):
    from oneiros_server.engines.style_network.engine import load
    from oneiros_server.repository.verify import read_manifest

    path = tiny_style_repository() / NAME / "1" / "model.onnx"
    assert _threads(_runner(tmp_path)) == Settings(model_repository=tmp_path).ort_threads == 1
    assert _threads(_runner(tmp_path, ort_threads=3)) == 3
    assert _threads(StyleNetworkRunner(path, Settings(model_repository=tmp_path), intra_op_threads=2)) == 2
    manifest, problems = read_manifest(path.parent)
    assert manifest is not None and not problems
    assert manifest.spec["intra_op_threads"] == 0  # the exporter asks for every core
    engine = load(manifest, path.parent, Settings(model_repository=tmp_path))
    assert _threads(engine.runner) == 0  # ONNX Runtime's default: a thread per core
    engine.close()

"""Training a style network: crops, the checkpoint it resumes from, and the photo set's licences."""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest
import torch

from oneiros_training.style_net import StyleNet, StyleNetConfig, grow
from oneiros_training.style_photos import EVALUATION_SET, SKIMAGE_PHOTOS, _dep5_licence
from oneiros_training.style_train import CropSampler
from oneiros_training.style_train import main as train_main
from tests.style_models import TRAIN_STEPS, picture, tiny_style_run, tiny_train_args


def test_network_keeps_the_size_and_the_range():
    net = StyleNet(StyleNetConfig(width=4, blocks=1)).eval()
    with torch.no_grad():
        out = net(torch.rand(2, 3, 36, 52))
    assert out.shape == (2, 3, 36, 52) and out.min() >= 0 and out.max() <= 1


def test_crops_are_square_at_the_training_size_from_any_photo():
    photos = [picture(72, 56), picture(20, 90, seed=1)]  # one smaller than the crop: enlarged
    batch = CropSampler(photos, 32, np.random.default_rng(0)).batch(5)
    assert batch.shape == (5, 3, 32, 32) and batch.dtype == torch.float32
    assert 0 <= float(batch.min()) and float(batch.max()) <= 1


def test_training_logs_each_step_and_resumes_from_its_checkpoint():
    run = tiny_style_run()
    log = [json.loads(line) for line in (run / "run" / "train.log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == list(range(1, TRAIN_STEPS + 1))
    assert all(r["loss"] == pytest.approx(r["content"] + r["style"] + r["tv"], rel=1e-5) for r in log)
    state = torch.load(run / "run" / "last.pt", weights_only=False)
    assert state["step"] == TRAIN_STEPS
    again = tiny_train_args(run, run / "resumed")
    (run / "resumed").mkdir()
    torch.save(state, run / "resumed" / "last.pt")
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        train_main([*again, "--steps", str(TRAIN_STEPS + 1)])
    resumed = [json.loads(line) for line in (run / "resumed" / "train.log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in resumed] == [TRAIN_STEPS + 1]  # one more step, not a fresh start
    final = torch.load(run / "resumed" / "final.pt", weights_only=False)
    assert final["meta"]["steps"] == TRAIN_STEPS + 1


def test_the_style_warmup_weight_holds_for_its_steps_only(tmp_path):
    runs = {}
    for name, extra in {"plain": [], "warm": ["--style-warmup-weight", "3", "--style-warmup-steps", "1"]}.items():
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            train_main([*tiny_train_args(tiny_style_run(), tmp_path / name), "--steps", "2", *extra])
        runs[name] = [json.loads(line) for line in (tmp_path / name / "train.log.jsonl").read_text().splitlines()]
    plain, warm = runs["plain"], runs["warm"]
    default = plain[0]["style_weight"]
    assert [r["style_weight"] for r in warm] == [3.0, default] and default != 3.0
    assert warm[0]["style"] == pytest.approx(plain[0]["style"] * 3.0 / default, rel=1e-4)  # same net, same crops


def test_a_grown_network_computes_what_the_small_one_did():
    torch.manual_seed(0)
    small = StyleNet(StyleNetConfig(width=4, blocks=1))
    with torch.no_grad():
        for p in small.parameters():
            p.add_(0.1 * torch.randn_like(p))  # off the initial norms' (1, 0), so every weight matters
    big = grow(small, StyleNetConfig(width=6, blocks=3))
    x = torch.rand(2, 3, 20, 28)
    with torch.no_grad():
        assert torch.allclose(big.eval().raw(x), small.eval().raw(x), atol=1e-6)
    assert sum(p.numel() for p in big.parameters()) > sum(p.numel() for p in small.parameters())
    with pytest.raises(ValueError, match="can only grow"):
        grow(big, StyleNetConfig(width=4, blocks=3))


def test_grow_from_starts_where_the_small_network_stopped_with_the_learning_rate_ramped(tmp_path):
    run = tiny_style_run()
    logs = {}
    for name, size in {"same": ["--width", "4", "--blocks", "1"], "grown": ["--width", "6", "--blocks", "2"]}.items():
        args = [*tiny_train_args(run, tmp_path / name), *size, "--steps", "2", "--lr-warmup-steps", "4"]
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            train_main([*args, "--grow-from", str(run / "run" / "final.pt")])
        logs[name] = [json.loads(line) for line in (tmp_path / name / "train.log.jsonl").read_text().splitlines()]
    # the first step's loss is taken before any update: the grown network is the trained one
    assert logs["grown"][0]["loss"] == pytest.approx(logs["same"][0]["loss"], rel=1e-5)
    halfway = 1e-4 + (2e-3 - 1e-4) * 0.5  # the cosine from --lr 2e-3 to --lr-min 1e-4, half run
    assert [r["lr"] for r in logs["grown"]] == pytest.approx([2e-3 * 1 / 4, halfway * 2 / 4], rel=0.02)
    meta = torch.load(tmp_path / "grown" / "final.pt", weights_only=False)["meta"]
    assert meta["config"] == {"width": 6, "blocks": 2}
    assert meta["grown_from"]["config"] == {"width": 4, "blocks": 1} and meta["grown_from"]["steps"] == TRAIN_STEPS
    from oneiros_export.style_net import training_record

    first = training_record(meta, None, "")["grown_from"]  # model.json says where it began, and how
    assert first["steps"] == TRAIN_STEPS and first["config"] == {"width": 4, "blocks": 1} and "args" not in first
    assert first["command"].startswith("python -m oneiros_training.style_train") and "--width 4" in first["command"]


def test_a_network_grown_twice_records_both_earlier_stages(tmp_path):
    run = tiny_style_run()
    previous = run / "run" / "final.pt"
    for name, blocks in (("second", "2"), ("third", "3")):
        args = [*tiny_train_args(run, tmp_path / name), "--width", "6", "--blocks", blocks, "--steps", "1"]
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            train_main([*args, "--grow-from", str(previous)])
        previous = tmp_path / name / "final.pt"
    from oneiros_export.style_net import training_record

    meta = torch.load(previous, weights_only=False)["meta"]
    second = training_record(meta, None, "")["grown_from"]
    assert second["config"] == {"width": 6, "blocks": 2} and second["steps"] == 1 and "--blocks 2" in second["command"]
    first = second["grown_from"]  # the chain reaches the first, random start
    assert first["config"] == {"width": 4, "blocks": 1} and first["steps"] == TRAIN_STEPS and "args" not in first
    assert "--width 4" in first["command"] and "grown_from" not in first


def test_evaluation_photos_are_never_training_photos():
    assert not set(EVALUATION_SET) & set(SKIMAGE_PHOTOS) and "cat" not in SKIMAGE_PHOTOS  # cat is chelsea


def test_licence_comes_from_the_stanza_that_names_the_file():
    text = (
        "Files: *\nCopyright: 2010 Someone\nLicense: GPL-2+\n\n"
        "Files: nature/Aqua.jpg\n       nature/Garden.jpg\nCopyright: 2008, Charles Barbin\nLicense: CC-BY-SA-3.0\n"
    )
    assert _dep5_licence(text, "nature/Garden.jpg") == ("CC-BY-SA-3.0", "2008, Charles Barbin")
    assert _dep5_licence(text, "abstract/Flow.png") == ("GPL-2+", "2010 Someone")

"""Export of a tiny character Transformer: one ONNX graph with a cache, parity with torch, model.json."""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest
import torch

from oneiros_export.transformer import OUTPUTS, input_names
from oneiros_export.transformer import main as export_main
from oneiros_export.transformer_checks import check_parity, empty_cache, padded_prompts, session
from oneiros_server.repository.manifest import Manifest, sha256_file
from oneiros_training.transformer_train import load_checkpoint
from oneiros_training.transformer_train import main as train_main
from tests.lm_tiny import VERSES

ARGS = "--block 16 --window 12 --layers 2 --heads 2 --d-model 16 --batch 8 --steps 40 --eval-every 20 --warmup 5"


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    root = tmp_path_factory.mktemp("transformer")
    text = root / "verses.txt"
    text.write_text(VERSES * 2)
    run, out = root / "run", root / "models" / "tiny-transformer" / "1"
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        train_main(["--text", str(text), "--out", str(run), *ARGS.split()])
        export_main([str(run / "final.pt"), "--out", str(out)])
    return run / "final.pt", out


def test_model_json_is_complete(exported):
    _, out = exported
    manifest = Manifest.model_validate(json.loads((out / "model.json").read_text()))
    assert manifest.kind == "LANGUAGE_MODEL" and manifest.default_for == []
    for ref in manifest.files.values():
        assert sha256_file(out / ref.path) == ref.sha256
    arch = manifest.spec["architecture"]
    assert (arch["n_layer"], arch["n_head"], arch["head_dim"], arch["block"], arch["window"]) == (2, 2, 8, 16, 12)
    assert manifest.spec["cache"]["keep_last"] == 11
    assert set(manifest.spec["inputs"]) == set(input_names(2)) and set(manifest.spec["outputs"]) == set(OUTPUTS)
    for key in ("heldout_bits_per_char", "parameters", "onnx_parity_max_abs", "mean_entropy_bits_t1"):
        assert key in manifest.metrics
    assert manifest.metrics["onnx_parity_max_abs"] <= 1e-4
    entropies = [manifest.metrics[f"mean_entropy_bits_t{t}"] for t in ("0.2", "0.5", "1", "1.2")]
    assert entropies == sorted(entropies)  # entropy rises with temperature
    assert manifest.training["curve"] and manifest.training["curve"][-1]["final"]
    assert "--block 16" in manifest.training["commands"][0]


def test_graph_interface(exported):
    _, out = exported
    sess = session(out / "model.onnx")
    assert [i.name for i in sess.get_inputs()] == input_names(2)
    assert input_names(2)[3:] == ["past_keys.0", "past_keys.1", "past_values.0", "past_values.1"]
    assert [o.name for o in sess.get_outputs()] == OUTPUTS
    assert sess.get_inputs()[3].shape == ["batch", 2, "past", 8]
    assert sess.get_outputs()[1].shape == [2, "batch", 2, "time", 8]  # only the new tokens' entries


def test_parity_with_mixed_lengths_in_one_batch(exported):
    checkpoint, out = exported
    model, _, _ = load_checkpoint(checkpoint)
    assert check_parity(model, out / "model.onnx") <= 1e-4


def test_onnx_prefill_of_padded_prompts_equals_each_prompt_alone(exported):
    checkpoint, out = exported
    model, _, _ = load_checkpoint(checkpoint)
    sess = session(out / "model.onnx")
    lengths = [3, 11, 20, 1]
    ids, pos = padded_prompts(lengths, model.config.vocab_size, seed=5)
    logits, keys, _ = sess.run(None, {"ids": ids, "positions": pos, **empty_cache(sess, len(lengths))})
    assert keys.shape[3] == max(lengths)  # a prefill's new entries: every (padded) prompt position
    for i, n in enumerate(lengths):
        alone = sess.run(None, {"ids": ids[i : i + 1, :n], "positions": pos[i : i + 1, :n], **empty_cache(sess, 1)})
        np.testing.assert_allclose(logits[i, :n], alone[0][0], atol=1e-4, rtol=0)
        with torch.no_grad():
            want = model(torch.from_numpy(ids[i : i + 1, :n]))[0][0].numpy()
        np.testing.assert_allclose(logits[i, :n], want, atol=1e-4, rtol=0)


def test_a_run_continued_from_a_checkpoint_counts_on_and_keeps_both_commands(exported, tmp_path):
    checkpoint, _ = exported
    run, out = tmp_path / "run2", tmp_path / "models" / "tiny-transformer" / "2"
    run.mkdir()
    (run / "train.log.jsonl").write_text((checkpoint.parent / "train.log.jsonl").read_text())
    text = tmp_path / "verses.txt"
    text.write_text(VERSES * 2)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        train_main(["--text", str(text), "--out", str(run), *ARGS.split(), "--init-from", str(checkpoint)])
        export_main([str(run / "final.pt"), "--out", str(out)])
    training = Manifest.model_validate(json.loads((out / "model.json").read_text())).training
    assert training["steps"] == 80 and len(training["commands"]) == 2
    assert "--init-from" in training["commands"][1] and "--init-from" not in training["commands"][0]
    steps = [r["step"] for r in training["curve"]]
    assert steps == sorted(steps) and steps[-1] == 80
    assert [r for r in training["curve"] if r.get("run_end")] and training["curve"][-1]["final"]
    with pytest.raises(SystemExit, match="config differs"):
        train_main(
            ["--text", str(text), "--out", str(run), *ARGS.split(), "--d-model", "32", "--init-from", str(checkpoint)]
        )

"""Character language models with no state (the chapter's LSTM, a Keras Transformer): exported
over a fixed window of tokens, served by re-feeding the window (``oneiros_server.runtime.window``).

Exporters read a free sequence length only at the length they traced (silently wrong at any
other), so the graph is always written for one length: the model's own if its input fixes
one, else ``--sequence-length``. Parity is checked at batch 1 and 7, for a full window and
for a short context padded on the left, as the runtime feeds them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from oneiros_export.byo import Refused, graph
from oneiros_export.byo.sources import Source

PAD = 0


def read_vocabulary(value: str | None) -> str:
    """``--vocabulary``: a file holding the characters in token-id order, or the string itself."""
    if not value:
        raise Refused("a char-lm needs --vocabulary (a file, or the characters in token-id order)")
    path = Path(value)
    vocabulary = path.read_text(encoding="utf-8") if path.is_file() else value
    repeated = sorted({c for c in vocabulary if vocabulary.count(c) > 1})
    if repeated:
        raise Refused(f"--vocabulary repeats {', '.join(map(repr, repeated[:10]))}; each character once, in id order")
    return vocabulary


def _input(source: Source, vocab: int, length: int | None) -> tuple[str, str, int]:
    """(encoding, token dtype, window length) from the model's input and ``--sequence-length``."""
    if not source.input_shapes:  # a torch module: integer ids
        if not length:
            raise Refused("a torch char-lm needs --sequence-length (the window it reads)")
        return "ids", "int64", length
    if len(source.input_shapes) != 1:
        raise Refused(f"the model takes {len(source.input_shapes)} inputs; a char-lm takes one (batch, length)")
    shape, dtype = source.input_shapes[0], source.input_dtypes[0]
    if len(shape) == 2:
        if dtype not in ("int32", "int64"):
            raise Refused(f"the token input is {dtype}; declare it keras.Input(shape=(length,), dtype='int32')")
        encoding = "ids"
    elif len(shape) == 3:
        if shape[2] != vocab:
            raise Refused(f"the one-hot input has {shape[2]} columns but the vocabulary has {vocab} characters")
        encoding, dtype = "one_hot", "float32"
    else:
        raise Refused(
            f"the input has shape {shape} (rank {len(shape)}); a char-lm takes (batch, length) ids "
            "or (batch, length, vocabulary) one-hot rows"
        )
    fixed = shape[1]
    if fixed is not None and length and length != fixed:
        raise Refused(f"--sequence-length {length} but the model's input is fixed at {fixed}")
    if fixed is None and not length:
        raise Refused(
            "the model reads any sequence length, but an exported graph reads only the length it was "
            "traced at: give --sequence-length (the length it was trained on)"
        )
    return encoding, "int64" if encoding == "one_hot" else dtype, int(fixed or length)


def _tokens(rng: np.random.Generator, batch: int, length: int, vocab: int, short: int | None, encoding: str, dtype):
    ids = rng.integers(0, vocab, (batch, length))
    if short is not None:
        ids[:, : length - short] = -1  # left padding, as WindowRuntime feeds a short context
    if encoding == "one_hot":
        x = np.zeros((batch, length, vocab), np.float32)
        rows, cols = np.nonzero(ids >= 0)
        x[rows, cols, ids[rows, cols]] = 1.0
        return x
    return np.where(ids >= 0, ids, PAD).astype(dtype)


def import_char_lm(source: Source, out: Path, vocabulary: str, length: int | None) -> dict[str, Any]:
    """Write ``out/window.onnx``; returns the spec fields, exporter and parity figures."""
    vocab = len(vocabulary)
    encoding, dtype, window = _input(source, vocab, length)
    rng = np.random.default_rng(0)
    probe = _tokens(rng, 2, window, vocab, None, encoding, dtype)
    outputs = graph.probe(source.module, probe, "the char-lm")
    if len(outputs) != 1:
        raise Refused(f"the model gives {len(outputs)} outputs; a char-lm gives one distribution per step")
    shape = outputs[0].shape
    if len(shape) not in (2, 3) or shape[-1] != vocab:
        raise Refused(
            f"the output has shape {shape}: not a distribution over the {vocab} characters "
            "((batch, vocabulary) or (batch, length, vocabulary))"
        )
    last = outputs[0][:, -1] if len(shape) == 3 else outputs[0]
    if not np.all(np.isfinite(last)):
        raise Refused("the model gave NaN or infinite values on random tokens")
    sums_to_one = bool(np.all(last >= 0) and np.allclose(last.sum(-1), 1.0, atol=1e-3))
    distribution = "probabilities" if source.final_activation == "softmax" or sums_to_one else "logits"
    module = graph.wrap(source.module, last_step=len(shape) == 3)
    path = out / "window.onnx"
    exporter = graph.export(module, probe, path, "ids", ["next"])
    short = max(1, window // 2)
    cases = {
        f"batch 1, {window} tokens": _tokens(rng, 1, window, vocab, None, encoding, dtype),
        f"batch 7, {window} tokens": _tokens(rng, 7, window, vocab, None, encoding, dtype),
        f"batch 7, {short} tokens padded to {window}": _tokens(rng, 7, window, vocab, short, encoding, dtype),
    }
    diffs = graph.parity(module, path, cases, "the char-lm")
    token_shape: list[int | str] = ["batch", window] + ([vocab] if encoding == "one_hot" else [])
    spec = {
        "vocabulary": vocabulary,
        "token_dtype": "int32" if dtype == "int32" else "int64",
        "distribution": distribution,
        "inputs": {"ids": token_shape},
        "outputs": {"next": ["batch", vocab]},
        "window": {"length": window, "input": "ids", "output": "next", "encoding": encoding, "pad": PAD},
    }
    return {"spec": spec, "file": path.name, "exporter": exporter, "parity": diffs}

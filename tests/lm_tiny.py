"""A tiny character LM for tests: trained on a few KB in seconds, exported like the default."""

from __future__ import annotations

import contextlib
import functools
import io
import json
import tempfile
from pathlib import Path

VERSES = """In the beginning God created the heaven and the earth.
And the earth was without form, and void; and darkness was upon the face of the deep.
And the Spirit of God moved upon the face of the waters.
And God said, Let there be light: and there was light.
And God saw the light, that it was good: and God divided the light from the darkness.
And God called the light Day, and the darkness he called Night.
And the evening and the morning were the first day.
And God said, Let there be a firmament in the midst of the waters.
And God made the firmament, and divided the waters which were under the firmament.
And God called the firmament Heaven. And the evening and the morning were the second day.
"""


@functools.lru_cache(maxsize=1)
def tiny_lm_repository() -> Path:
    """A model repository holding ``tiny-lm/1`` (GRU 1x48); built once per test process."""
    from oneiros_export.charlm import main as export_main
    from oneiros_training.charlm import main as train_main

    root = Path(tempfile.mkdtemp(prefix="oneiros-lm-"))
    text = root / "verses.txt"
    text.write_text(VERSES * 4)
    run = root / "run"
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        train_main(
            [
                "--text",
                str(text),
                "--out",
                str(run),
                "--embed",
                "16",
                "--hidden",
                "48",
                "--batch",
                "8",
                "--bptt",
                "32",
                "--steps",
                "120",
                "--lr",
                "1e-2",
                "--eval-every",
                "1000",
                "--warmup",
                "10",
            ]
        )
        export_main(
            [
                str(run / "final.pt"),
                "--out",
                str(root / "models" / "tiny-lm" / "1"),
                "--temperature",
                "0.5",
                "--max-tokens",
                "40",
            ]
        )
    return root / "models"


def tiny_manifest():
    from oneiros_server.repository.manifest import Manifest

    version_dir = tiny_lm_repository() / "tiny-lm" / "1"
    return Manifest.model_validate(json.loads((version_dir / "model.json").read_text())), version_dir


@functools.lru_cache(maxsize=1)
def tiny_transformer_repository() -> Path:
    """A model repository holding ``tiny-transformer/1`` (2 layers x 16, window 12) beside ``tiny-lm/1``.

    Its checkpoint is ``<repository>/../transformer-run/final.pt``; built once per test process.
    """
    import shutil

    from oneiros_export.transformer import main as export_main
    from oneiros_training.transformer_train import main as train_main

    root = Path(tempfile.mkdtemp(prefix="oneiros-transformer-"))
    text = root / "verses.txt"
    text.write_text(VERSES * 2)
    run = root / "transformer-run"
    args = "--block 16 --window 12 --layers 2 --heads 2 --d-model 16 --batch 8 --steps 40 --eval-every 20 --warmup 5"
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        train_main(["--text", str(text), "--out", str(run), *args.split()])
        export_main([str(run / "final.pt"), "--out", str(root / "models" / "tiny-transformer" / "1")])
    shutil.copytree(tiny_lm_repository() / "tiny-lm", root / "models" / "tiny-lm")
    return root / "models"


def tiny_transformer():
    """The tiny Transformer's (torch model, manifest, version folder)."""
    from oneiros_server.repository.manifest import Manifest
    from oneiros_training.transformer_train import load_checkpoint

    models = tiny_transformer_repository()
    version_dir = models / "tiny-transformer" / "1"
    model, _, _ = load_checkpoint(models.parent / "transformer-run" / "final.pt")
    return model, Manifest.model_validate(json.loads((version_dir / "model.json").read_text())), version_dir

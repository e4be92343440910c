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

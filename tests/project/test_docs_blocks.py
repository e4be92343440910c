"""The docs test's reading of Markdown: which blocks run, and what its markers do."""

from __future__ import annotations

import pytest

from tests.docs_blocks import MarkerError, parse

DOC = """# Title

```sh
echo one
```

<!-- docs-test: skip (needs a GPU) -->
```bash
nvidia-smi
```

<!-- docs-test: substitute "--steps 100" "--steps 2" -->
<!-- docs-test: substitute "512" "64" -->
```python
run(steps=1)  # --steps 100 at 512
```

```text
not run
```

- a list item
  ```sh
  echo indented
  ```
"""


def _parse(tmp_path, text):
    (tmp_path / "doc.md").write_text(text)
    return parse(tmp_path / "doc.md", tmp_path)


def test_runnable_blocks_with_their_lines_and_markers(tmp_path):
    blocks = _parse(tmp_path, DOC)
    assert [(b.where, b.language) for b in blocks] == [
        ("doc.md:3", "sh"),
        ("doc.md:8", "sh"),
        ("doc.md:14", "python"),
        ("doc.md:23", "sh"),
    ]
    assert blocks[0].skip is None and blocks[1].skip == "needs a GPU"
    assert blocks[2].runnable_code() == "run(steps=1)  # --steps 2 at 64\n"
    assert blocks[3].code == "echo indented\n"


def test_a_substitution_that_no_longer_matches_fails(tmp_path):
    (block,) = _parse(
        tmp_path, '<!-- docs-test: substitute "--steps 100" "--steps 2" -->\n```sh\nrun --steps 50\n```\n'
    )
    with pytest.raises(MarkerError, match=r"doc.md:2: substitute '--steps 100': not in the block"):
        block.runnable_code()


@pytest.mark.parametrize(
    "marker",
    ["<!-- docs-test: skip -->", "<!-- docs-test: ignore (why) -->", '<!-- docs-test: substitute "a" -->'],
)
def test_a_marker_that_does_not_parse_fails(tmp_path, marker):
    with pytest.raises(MarkerError, match="doc.md:2: unknown docs-test marker"):
        _parse(tmp_path, f"{marker}\n```sh\ntrue\n```\n")


def test_a_marker_away_from_a_fence_fails(tmp_path):
    with pytest.raises(MarkerError, match="doc.md:1: a docs-test marker must stand right before a fence"):
        _parse(tmp_path, "<!-- docs-test: skip (why) -->\n\n```sh\ntrue\n```\n")

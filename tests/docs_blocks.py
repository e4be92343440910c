"""The code blocks of the docs, as the docs test runs them.

Every ```sh, ```bash and ```python block of README.md, clients/python/README.md,
proto/README.md and docs/*.md is meant to run as pasted from the repository root.
HTML comments on the lines right before a fence change that:

    <!-- docs-test: skip (the reason) -->           not run; the reason is reported
    <!-- docs-test: substitute "old" "new" -->      run with every "old" replaced by "new"
                                                    ("old" must occur: a stale marker fails)

Blocks in other languages (```text, ```json, ```console, no language) are not run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

RUN_LANGUAGES = {"sh": "sh", "bash": "sh", "python": "python"}
FENCE = re.compile(r"^(\s*)(```+|~~~+)\s*([\w+-]*)")
MARKER = re.compile(r"^\s*<!--\s*docs-test:\s*(.*?)\s*-->\s*$")
SKIP = re.compile(r"skip\s+\((.+)\)$")
SUBSTITUTE = re.compile(r'substitute\s+"((?:[^"\\]|\\.)+)"\s+"((?:[^"\\]|\\.)*)"$')


class MarkerError(ValueError):
    """A docs-test marker that does not parse, or that no longer matches its block."""


@dataclass
class Block:
    """One runnable code block: where it is, its language ("sh" or "python"), and its markers."""

    doc: str  # path relative to the repository root
    line: int  # 1-based line of the opening fence
    language: str
    code: str
    skip: str | None = None
    substitutions: list[tuple[str, str]] = field(default_factory=list)

    @property
    def where(self) -> str:
        return f"{self.doc}:{self.line}"

    def runnable_code(self) -> str:
        """The code with its substitutions applied; MarkerError when one no longer matches."""
        code = self.code
        for old, new in self.substitutions:
            if old not in code:
                raise MarkerError(f"{self.where}: substitute {old!r}: not in the block")
            code = code.replace(old, new)
        return code


def documents(root: Path) -> list[Path]:
    """The docs whose blocks run, in a stable order."""
    fixed = [root / "README.md", root / "clients/python/README.md", root / "proto/README.md"]
    return [p for p in fixed if p.exists()] + sorted((root / "docs").glob("*.md"))


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def _markers(lines: list[str], fence_index: int, where: str) -> tuple[str | None, list[tuple[str, str]]]:
    skip, substitutions = None, []
    i = fence_index - 1
    while i >= 0 and (match := MARKER.match(lines[i])):
        body = match.group(1)
        if m := SKIP.match(body):
            skip = m.group(1).strip()
        elif m := SUBSTITUTE.match(body):
            substitutions.insert(0, (_unescape(m.group(1)), _unescape(m.group(2))))
        else:
            raise MarkerError(f'{where}: unknown docs-test marker {body!r} (skip (reason) | substitute "old" "new")')
        i -= 1
    return skip, substitutions


def parse(path: Path, root: Path) -> list[Block]:
    """The runnable blocks of one Markdown file; MarkerError for a marker that does not parse."""
    lines = path.read_text().splitlines()
    doc = str(path.relative_to(root))
    blocks, i = [], 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            if MARKER.match(lines[i]) and not any(FENCE.match(x) or MARKER.match(x) for x in lines[i + 1 : i + 2]):
                raise MarkerError(f"{doc}:{i + 1}: a docs-test marker must stand right before a fence")
            i += 1
            continue
        indent, fence, language = opening.groups()
        end = i + 1
        while end < len(lines) and not lines[end].strip().startswith(fence):
            end += 1
        if language in RUN_LANGUAGES:
            skip, substitutions = _markers(lines, i, f"{doc}:{i + 1}")
            code = "\n".join(line.removeprefix(indent) for line in lines[i + 1 : end]) + "\n"
            blocks.append(Block(doc, i + 1, RUN_LANGUAGES[language], code, skip, substitutions))
        i = end + 1
    return blocks

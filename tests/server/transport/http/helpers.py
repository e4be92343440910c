"""Shared pieces of the HTTP transport tests: a repository of tiny models, SSE parsing, pictures."""

from __future__ import annotations

import base64
import io
import json
import shutil
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

from tests.latent_models import make_latent_model
from tests.lm_tiny import tiny_lm_repository

D = 4  # latent size of the tiny VAE and GAN


def tiny_repository(root: Path) -> Path:
    """tiny-lm (Sample), tiny-vae (Decode, EditLatent) and tiny-gan in one repository under ``root``."""
    shutil.copytree(tiny_lm_repository() / "tiny-lm", root / "tiny-lm")
    make_latent_model(root, "tiny-vae", D, default_for=("Decode", "EditLatent"))
    make_latent_model(root, "tiny-gan", D, kind="GAN", default_for=())
    return root


def events(response: httpx.Response) -> list[tuple[str, str]]:
    """(event name, data) of every server-sent event in a streamed response, read to its end."""
    return list(iter_events(response))


def iter_events(response: httpx.Response):
    name, data = "message", []
    for line in response.iter_lines():
        if not line:
            if data:
                yield name, "\n".join(data)
            name, data = "message", []
        elif line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].lstrip())


def json_events(response: httpx.Response) -> list[dict]:
    return [json.loads(data) for _, data in events(response)]


def png(array: np.ndarray, mode: str = "L") -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).convert(mode).save(buffer, "PNG")
    return buffer.getvalue()


def digit_png() -> bytes:
    array = np.zeros((28, 28), np.uint8)
    array[6:22, 12:16] = 255
    return png(array)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def violations(response: httpx.Response) -> list[str]:
    """The fields named by the google.rpc.BadRequest detail of an error body."""
    fields = []
    for detail in response.json()["error"].get("details", []):
        if detail["@type"].endswith("google.rpc.BadRequest"):
            fields += [v["field"] for v in detail["fieldViolations"]]
    return fields

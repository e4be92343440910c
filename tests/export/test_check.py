"""``oneiros-export check DIR``: the server's own checks offline, one problem per line, exit 1."""

from __future__ import annotations

import json

import pytest

from oneiros_export.cli import main
from oneiros_server.repository.manifest import file_ref
from tests.latent_models import make_latent_model


@pytest.fixture
def model(tmp_path):
    return make_latent_model(tmp_path, "tiny-vae", 4)


def _edit(folder, change) -> None:
    path = folder / "model.json"
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def _check(folder, capsys) -> tuple[int, list[str]]:
    status = main(["check", str(folder)])
    captured = capsys.readouterr()
    return status, (captured.err or captured.out).splitlines()


def test_a_good_model_passes(model, capsys):
    assert _check(model, capsys) == (0, [f"{model}: ok"])


def test_schema_problems_are_listed_field_by_field(model, capsys):
    def change(data):
        data["spec"]["decoder"] = {"input": "latent", "outptu": "image"}
        data["spec"]["pixel_range"] = "bright"
        data["extra"] = 1

    _edit(model, change)
    status, lines = _check(model, capsys)
    assert status == 1 and len(lines) == 3
    text = "\n".join(lines)
    assert "extra: Extra inputs" in text and "spec.decoder.outptu: Extra inputs" in text and "spec.pixel_range:" in text


def test_a_changed_file_fails_its_sha256(model, capsys):
    (model / "encoder.onnx").write_bytes(b"changed")
    status, lines = _check(model, capsys)
    assert status == 1 and lines == [f"{model}: files.encoder: 'encoder.onnx' does not match its sha256"]


def test_graph_inputs_and_outputs_are_checked_against_the_spec(model, capsys):
    def change(data):
        data["spec"]["latent_size"] = 3
        data["spec"]["attributes"] = {}
        data["spec"]["decoder"] = {"input": "z", "output": "image"}

    _edit(model, change)
    status, lines = _check(model, capsys)
    assert status == 1
    assert any("files.decoder: input 'z' is missing; the graph has 'latent' [batch, 4]" in line for line in lines)
    assert any("files.decoder: input 'latent' is not in the spec" in line for line in lines)
    assert any("files.encoder: output 'mean' axis 1 is 4, the spec says 3" in line for line in lines)


def test_a_graph_that_loads_but_fails_to_run_fails_the_smoke_run(model, capsys):
    def change(data):
        data["spec"]["image_shape"] = [28, 28, 1]
        data["files"]["decoder"] = file_ref(model, "decoder.onnx").model_dump()

    (model / "decoder.onnx").write_bytes((model / "encoder.onnx").read_bytes())  # image -> latent, not latent -> image
    _edit(model, change)
    status, lines = _check(model, capsys)
    assert status == 1 and all("files.decoder:" in line for line in lines)
    assert any("input 'latent' is missing" in line for line in lines)


def test_folder_names_must_match_the_manifest(model, capsys):
    _edit(model, lambda data: data.update(version="2"))
    status, lines = _check(model, capsys)
    assert status == 1 and lines == [f"{model}: version: '2', but the folder is '1' (the server uses the folder's)"]

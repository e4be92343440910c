"""The published JSON Schema of model.json: generated from the one definition the server
validates with, shipped equal to what it generates, and met by every committed model."""

from __future__ import annotations

import json

import jsonschema
import pytest
from pydantic import ValidationError

from oneiros_export.cli import main
from oneiros_server.engines.registry import default_registry
from oneiros_server.repository.manifest import Manifest
from oneiros_server.repository.schema import manifest_schema, schema_text, shipped_schema_text
from oneiros_server.specs import SPECS
from tests.conftest import REPO_ROOT

MODELS = sorted(REPO_ROOT.glob("models/*/*/model.json"))


def test_the_shipped_schema_is_the_generated_one():
    assert shipped_schema_text() == schema_text(), (
        "run: oneiros-export schema -o server/oneiros_server/repository/model.schema.json"
    )


def test_oneiros_export_schema_writes_it(tmp_path):
    out = tmp_path / "schema.json"
    assert main(["schema", "-o", str(out)]) == 0
    assert json.loads(out.read_text()) == manifest_schema()


def test_every_registered_kind_has_a_spec_model():
    assert set(default_registry().kinds()) <= set(SPECS)


@pytest.mark.parametrize("path", MODELS, ids=[f"{p.parent.parent.name}/{p.parent.name}" for p in MODELS])
def test_every_committed_model_json_validates(path):
    data = json.loads(path.read_text())
    jsonschema.Draft202012Validator(manifest_schema()).validate(data)
    Manifest.model_validate(data)


@pytest.mark.parametrize(
    ("path", "value"),
    [(("spec", "decoder", "outptu"), "image"), (("spec", "outptu"), 1), (("files", "decoder", "size"), 3)],
)
def test_unknown_fields_are_refused_with_their_path(path, value):
    data = json.loads((REPO_ROOT / "models/vae-mnist-2d/1/model.json").read_text())
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(ValidationError) as err:
        Manifest.model_validate(data)
    assert [e["loc"] for e in err.value.errors()] == [path]
    schema_errors = list(jsonschema.Draft202012Validator(manifest_schema()).iter_errors(data))
    assert schema_errors, "the JSON Schema refuses it too"


def test_a_kind_without_its_graph_role_is_refused_naming_files():
    data = json.loads((REPO_ROOT / "models/charlm-kjv/1/model.json").read_text())
    data["files"] = {"torch": data["files"]["torch"]}
    with pytest.raises(ValidationError) as err:
        Manifest.model_validate(data)
    assert err.value.errors()[0]["loc"] == ("files",)


def test_docs_model_json_names_every_field():
    text = (REPO_ROOT / "docs/model-json.md").read_text()
    fields = set(Manifest.model_fields)
    for model in SPECS.values():
        fields |= set(model.model_fields)
    assert not sorted(f for f in fields if f"`{f}`" not in text)

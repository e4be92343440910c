"""The JSON Schema of ``model.json``, generated from ``Manifest`` and the spec models.

``spec`` gets its kind's schema through one ``if kind == K then spec: <K's spec>`` rule per
kind. The generated document is shipped beside this module as ``model.schema.json``
(``oneiros-export schema`` writes it; a test keeps the two equal).
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from oneiros_server.repository.manifest import Manifest
from oneiros_server.specs import SPECS

SCHEMA_FILE = "model.schema.json"
SCHEMA_ID = "https://github.com/oneiros/oneiros/blob/main/server/oneiros_server/repository/model.schema.json"


def manifest_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) every ``models/<name>/<version>/model.json`` satisfies."""
    schema = Manifest.model_json_schema(ref_template="#/$defs/{model}")
    definitions = schema.setdefault("$defs", {})
    rules = []
    for kind, model in sorted(SPECS.items()):
        spec_schema = model.model_json_schema(ref_template="#/$defs/{model}")
        definitions.update(spec_schema.pop("$defs", {}))
        definitions[model.__name__] = spec_schema
        rules.append(
            {
                "if": {"properties": {"kind": {"const": kind}}, "required": ["kind"]},
                "then": {"properties": {"spec": {"$ref": f"#/$defs/{model.__name__}"}}},
            }
        )
    schema["allOf"] = rules
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}


def schema_text() -> str:
    """``manifest_schema()`` as the shipped file holds it (sorted keys, two-space indent)."""
    return json.dumps(manifest_schema(), indent=2, sort_keys=True) + "\n"


def shipped_schema_text() -> str:
    """The schema file shipped in the package."""
    return resources.files("oneiros_server.repository").joinpath(SCHEMA_FILE).read_text()

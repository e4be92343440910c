"""The engine registry: kinds -> factories, imported when the first model of a kind loads."""

from __future__ import annotations

import sys

import pytest

from oneiros_server.engines.registry import Registry, default_registry
from oneiros_server.repository.manifest import Manifest


def test_the_shipped_kinds_and_their_families():
    registry = default_registry()
    assert registry.kinds() == ["CONVNET", "GAN", "LANGUAGE_MODEL", "STYLE_NETWORK", "VAE"]
    assert registry.families("VAE") == ("Decode", "EditLatent") and registry.families("CONVNET") == ("Dream", "Stylize")
    assert registry.families("STYLE_NETWORK") == ("Stylize",)
    assert registry.families("NOT_A_KIND") == ()


def test_a_factory_named_by_path_is_imported_when_a_model_loads(monkeypatch):
    monkeypatch.delitem(sys.modules, "tests.server.engines.toy_factory", raising=False)
    registry = Registry()
    registry.register("TOY", "tests.server.engines.toy_factory:load", families=("Decode",))
    assert "tests.server.engines.toy_factory" not in sys.modules  # registering imports nothing
    loaded = registry.load(Manifest(name="toy", version="1", kind="TOY", runtime="python"), None, None)
    assert loaded == ("toy", "TOY")


def test_an_unknown_kind_cannot_load():
    with pytest.raises(ValueError, match="NOT_A_KIND"):
        Registry().load(Manifest(name="x", version="1", kind="NOT_A_KIND", runtime="python"), None, None)

"""Fixtures of the engine tests: ``lm`` runs a test once per language model."""

from __future__ import annotations

import pytest

from tests.server.engines.language_model.sample_helpers import LANGUAGE_MODELS


@pytest.fixture(scope="module", params=LANGUAGE_MODELS)
def lm(request) -> str:
    return request.param

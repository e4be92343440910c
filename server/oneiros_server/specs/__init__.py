"""The ``spec`` of ``model.json``, one pydantic model per kind: the one definition that the
server validates with, the engines read, ``oneiros-export check`` applies and the published
JSON Schema is generated from (``oneiros_server.repository.schema``).

This package sits at the bottom of the import graph: it imports neither the repository nor
the engines, so both can import it.
"""

from __future__ import annotations

from pydantic import BaseModel

from oneiros_server.specs.contract import GraphContract, TensorContract
from oneiros_server.specs.convnet import ConvnetSpec
from oneiros_server.specs.language_model import LanguageModelSpec
from oneiros_server.specs.latent import LatentSpec
from oneiros_server.specs.style_network import StyleNetworkSpec

# kind -> the model its ``spec`` must satisfy
SPECS: dict[str, type[BaseModel]] = {
    "VAE": LatentSpec,
    "GAN": LatentSpec,
    "LANGUAGE_MODEL": LanguageModelSpec,
    "CONVNET": ConvnetSpec,
    "STYLE_NETWORK": StyleNetworkSpec,
}

__all__ = [
    "SPECS",
    "ConvnetSpec",
    "GraphContract",
    "LanguageModelSpec",
    "LatentSpec",
    "StyleNetworkSpec",
    "TensorContract",
]

"""``spec`` of a character language model served by the continuous batcher, as one of three
step graphs: a GRU with its state (``files.step``), a Transformer with a key/value cache
(``files.kv_step``), or a model with no state that reads a fixed window of the last tokens
(``files.window``, as Keras exports the chapter's LSTM)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field, model_validator

from oneiros_server.specs.contract import Dim, GraphContract, Strict, TensorContract

STEP_ROLES = ("step", "kv_step", "window")


class SpecialTokens(Strict):
    bos: str | None = Field(default=None, description="character fed before every prompt")
    unknown: str | None = Field(default=None, description="replaces prompt characters outside the vocabulary")
    end: str | None = Field(default=None, description="character that ends a completion")


class StateSpec(Strict):
    """The recurrent state a step graph takes and returns (``files.step``)."""

    input: str
    output: str
    shape: tuple[Dim, Dim, Dim] = Field(description="(layers, 'batch', hidden)")
    initial: Literal["zeros"] = "zeros"


class CacheSpec(Strict):
    """The key/value cache of a Transformer step graph (``files.kv_step``; docs/transformer-cache.md)."""

    keys: tuple[str, str]
    values: tuple[str, str]
    positions: str
    layout: list[str]
    new_layout: list[str]
    padding_position: int = -1
    keep_last: int = Field(ge=1)
    doc: str = ""


class WindowSpec(Strict):
    """A graph with no state: the last ``length`` tokens in, the next token's distribution out."""

    length: int = Field(ge=1, le=65536, description="tokens per run; shorter contexts are padded on the left")
    input: str = Field(default="ids", description="input tensor: (batch, length) token ids, or one-hot rows")
    output: str = Field(default="next", description="output tensor: (batch, vocabulary)")
    encoding: Literal["ids", "one_hot"] = Field(
        default="ids", description="ids: integer tokens; one_hot: (batch, length, vocabulary) float32"
    )
    pad: int = Field(default=0, ge=0, description="token id left of a short context (ids); one-hot pads with zeros")


class LanguageModelSpec(Strict):
    """A character vocabulary and the step graph that predicts the next character."""

    vocabulary: str = Field(min_length=1, description="the characters, in token-id order")
    special_tokens: SpecialTokens = SpecialTokens()
    token_dtype: Literal["int64", "int32"] = Field(default="int64", description="dtype of token-id inputs")
    distribution: Literal["logits", "probabilities"] = Field(
        default="logits", description="what the graph outputs per token: logits, or a softmax's probabilities"
    )
    inputs: dict[str, list[Dim]] = Field(default={}, description="step graph inputs: name -> shape")
    outputs: dict[str, list[Dim]] = Field(default={}, description="step graph outputs: name -> shape")
    state: StateSpec | None = Field(default=None, description="files.step: the recurrent state")
    cache: CacheSpec | None = Field(default=None, description="files.kv_step: the key/value cache")
    window: WindowSpec | None = Field(default=None, description="files.window: the fixed window")
    architecture: dict[str, Any] = Field(default={}, description="free description, shown by GetModel")

    @model_validator(mode="after")
    def _consistent(self) -> LanguageModelSpec:
        for name, char in self.special_tokens.model_dump().items():
            if char is not None and char not in self.vocabulary:
                raise ValueError(f"special token {name} {char!r} is not in the vocabulary")
        if self.window is not None and self.window.encoding == "ids" and self.window.pad >= len(self.vocabulary):
            raise ValueError(f"window.pad {self.window.pad} is not a token id (vocabulary of {len(self.vocabulary)})")
        return self

    def step_role(self, files: Mapping[str, Any]) -> str:
        """Which of ``step``, ``kv_step``, ``window`` ``files`` names (the first found)."""
        for role in STEP_ROLES:
            if role in files:
                return role
        raise ValueError("files must name a 'step' (GRU), 'kv_step' (Transformer) or 'window' graph")

    def _dtype(self, name: str) -> Literal["float32", "int32", "int64"]:
        if name == "ids":
            return self.token_dtype
        if name in ("positions", "past_positions") or (self.cache is not None and name == self.cache.positions):
            return "int64"
        return "float32"

    def graphs(self, files: Mapping[str, Any]) -> dict[str, GraphContract]:
        """File role -> what its graph must take and give."""
        role = self.step_role(files)
        if role == "window":
            if self.window is None:
                raise ValueError("files.window needs spec.window (length, input, output, encoding)")
            w, vocab = self.window, len(self.vocabulary)
            if w.encoding == "one_hot":
                tokens = TensorContract("float32", ("batch", w.length, vocab))
            else:
                tokens = TensorContract(self.token_dtype, ("batch", w.length))
            return {role: GraphContract({w.input: tokens}, {w.output: TensorContract("float32", ("batch", vocab))})}
        if role == "step" and self.state is None:
            raise ValueError("files.step needs spec.state (input, output, shape)")
        if role == "kv_step" and self.cache is None:
            raise ValueError("files.kv_step needs spec.cache")
        inputs = {n: TensorContract(self._dtype(n), tuple(s)) for n, s in self.inputs.items()}
        outputs = {n: TensorContract("float32", tuple(s)) for n, s in self.outputs.items()}
        return {role: GraphContract(inputs, outputs)}

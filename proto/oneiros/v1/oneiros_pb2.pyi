from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ImageFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PNG: _ClassVar[ImageFormat]
    JPEG: _ClassVar[ImageFormat]
    WEBP: _ClassVar[ImageFormat]

class ModelKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MODEL_KIND_UNSPECIFIED: _ClassVar[ModelKind]
    LANGUAGE_MODEL: _ClassVar[ModelKind]
    CONVNET: _ClassVar[ModelKind]
    VAE: _ClassVar[ModelKind]
    GAN: _ClassVar[ModelKind]
    STYLE_NETWORK: _ClassVar[ModelKind]

class ModelStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MODEL_STATUS_UNSPECIFIED: _ClassVar[ModelStatus]
    READY: _ClassVar[ModelStatus]
    UNAVAILABLE: _ClassVar[ModelStatus]
    LOADING: _ClassVar[ModelStatus]
    UNLOADING: _ClassVar[ModelStatus]
    UNLOADED: _ClassVar[ModelStatus]

class FinishReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FINISH_REASON_UNSPECIFIED: _ClassVar[FinishReason]
    LENGTH: _ClassVar[FinishReason]
    STOP: _ClassVar[FinishReason]
    CANCELLED: _ClassVar[FinishReason]

class Optimizer(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LBFGS: _ClassVar[Optimizer]
    ADAM: _ClassVar[Optimizer]

class StylizeInit(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONTENT: _ClassVar[StylizeInit]
    NOISE: _ClassVar[StylizeInit]
    STYLE: _ClassVar[StylizeInit]

class Interpolation(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LERP: _ClassVar[Interpolation]
    SLERP: _ClassVar[Interpolation]
PNG: ImageFormat
JPEG: ImageFormat
WEBP: ImageFormat
MODEL_KIND_UNSPECIFIED: ModelKind
LANGUAGE_MODEL: ModelKind
CONVNET: ModelKind
VAE: ModelKind
GAN: ModelKind
STYLE_NETWORK: ModelKind
MODEL_STATUS_UNSPECIFIED: ModelStatus
READY: ModelStatus
UNAVAILABLE: ModelStatus
LOADING: ModelStatus
UNLOADING: ModelStatus
UNLOADED: ModelStatus
FINISH_REASON_UNSPECIFIED: FinishReason
LENGTH: FinishReason
STOP: FinishReason
CANCELLED: FinishReason
LBFGS: Optimizer
ADAM: Optimizer
CONTENT: StylizeInit
NOISE: StylizeInit
STYLE: StylizeInit
LERP: Interpolation
SLERP: Interpolation

class Image(_message.Message):
    __slots__ = ("data",)
    DATA_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    def __init__(self, data: _Optional[bytes] = ...) -> None: ...

class Vector(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, values: _Optional[_Iterable[float]] = ...) -> None: ...

class ListModelsRequest(_message.Message):
    __slots__ = ("kind",)
    KIND_FIELD_NUMBER: _ClassVar[int]
    kind: ModelKind
    def __init__(self, kind: _Optional[_Union[ModelKind, str]] = ...) -> None: ...

class ListModelsResponse(_message.Message):
    __slots__ = ("models",)
    MODELS_FIELD_NUMBER: _ClassVar[int]
    models: _containers.RepeatedCompositeFieldContainer[ModelInfo]
    def __init__(self, models: _Optional[_Iterable[_Union[ModelInfo, _Mapping]]] = ...) -> None: ...

class GetModelRequest(_message.Message):
    __slots__ = ("name", "version")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    name: str
    version: str
    def __init__(self, name: _Optional[str] = ..., version: _Optional[str] = ...) -> None: ...

class ModelInfo(_message.Message):
    __slots__ = ("name", "version", "kind", "runtime", "device", "status", "status_reason", "description", "default_for", "vocabulary_size", "vocabulary", "latent_size", "image_shape", "attributes", "layers", "default_parameters", "metrics", "training", "precision", "architecture")
    class MetricsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    RUNTIME_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    STATUS_REASON_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_FOR_FIELD_NUMBER: _ClassVar[int]
    VOCABULARY_SIZE_FIELD_NUMBER: _ClassVar[int]
    VOCABULARY_FIELD_NUMBER: _ClassVar[int]
    LATENT_SIZE_FIELD_NUMBER: _ClassVar[int]
    IMAGE_SHAPE_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    LAYERS_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    TRAINING_FIELD_NUMBER: _ClassVar[int]
    PRECISION_FIELD_NUMBER: _ClassVar[int]
    ARCHITECTURE_FIELD_NUMBER: _ClassVar[int]
    name: str
    version: str
    kind: ModelKind
    runtime: str
    device: str
    status: ModelStatus
    status_reason: str
    description: str
    default_for: _containers.RepeatedScalarFieldContainer[str]
    vocabulary_size: int
    vocabulary: str
    latent_size: int
    image_shape: _containers.RepeatedScalarFieldContainer[int]
    attributes: _containers.RepeatedScalarFieldContainer[str]
    layers: _containers.RepeatedScalarFieldContainer[str]
    default_parameters: _struct_pb2.Struct
    metrics: _containers.ScalarMap[str, float]
    training: _struct_pb2.Struct
    precision: str
    architecture: _struct_pb2.Struct
    def __init__(self, name: _Optional[str] = ..., version: _Optional[str] = ..., kind: _Optional[_Union[ModelKind, str]] = ..., runtime: _Optional[str] = ..., device: _Optional[str] = ..., status: _Optional[_Union[ModelStatus, str]] = ..., status_reason: _Optional[str] = ..., description: _Optional[str] = ..., default_for: _Optional[_Iterable[str]] = ..., vocabulary_size: _Optional[int] = ..., vocabulary: _Optional[str] = ..., latent_size: _Optional[int] = ..., image_shape: _Optional[_Iterable[int]] = ..., attributes: _Optional[_Iterable[str]] = ..., layers: _Optional[_Iterable[str]] = ..., default_parameters: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., metrics: _Optional[_Mapping[str, float]] = ..., training: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., precision: _Optional[str] = ..., architecture: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class SampleRequest(_message.Message):
    __slots__ = ("model", "prompt", "max_tokens", "temperature", "top_k", "top_p", "seed", "stop", "n", "model_version")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PROMPT_FIELD_NUMBER: _ClassVar[int]
    MAX_TOKENS_FIELD_NUMBER: _ClassVar[int]
    TEMPERATURE_FIELD_NUMBER: _ClassVar[int]
    TOP_K_FIELD_NUMBER: _ClassVar[int]
    TOP_P_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    STOP_FIELD_NUMBER: _ClassVar[int]
    N_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    model: str
    prompt: str
    max_tokens: int
    temperature: float
    top_k: int
    top_p: float
    seed: int
    stop: _containers.RepeatedScalarFieldContainer[str]
    n: int
    model_version: str
    def __init__(self, model: _Optional[str] = ..., prompt: _Optional[str] = ..., max_tokens: _Optional[int] = ..., temperature: _Optional[float] = ..., top_k: _Optional[int] = ..., top_p: _Optional[float] = ..., seed: _Optional[int] = ..., stop: _Optional[_Iterable[str]] = ..., n: _Optional[int] = ..., model_version: _Optional[str] = ...) -> None: ...

class Completion(_message.Message):
    __slots__ = ("text", "finish_reason", "token_count", "mean_entropy_bits", "index")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    FINISH_REASON_FIELD_NUMBER: _ClassVar[int]
    TOKEN_COUNT_FIELD_NUMBER: _ClassVar[int]
    MEAN_ENTROPY_BITS_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    text: str
    finish_reason: FinishReason
    token_count: int
    mean_entropy_bits: float
    index: int
    def __init__(self, text: _Optional[str] = ..., finish_reason: _Optional[_Union[FinishReason, str]] = ..., token_count: _Optional[int] = ..., mean_entropy_bits: _Optional[float] = ..., index: _Optional[int] = ...) -> None: ...

class SampleResponse(_message.Message):
    __slots__ = ("completions", "model", "model_version")
    COMPLETIONS_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    completions: _containers.RepeatedCompositeFieldContainer[Completion]
    model: str
    model_version: str
    def __init__(self, completions: _Optional[_Iterable[_Union[Completion, _Mapping]]] = ..., model: _Optional[str] = ..., model_version: _Optional[str] = ...) -> None: ...

class SampleChunk(_message.Message):
    __slots__ = ("index", "text", "finish_reason", "token_count", "mean_entropy_bits", "model_version")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    FINISH_REASON_FIELD_NUMBER: _ClassVar[int]
    TOKEN_COUNT_FIELD_NUMBER: _ClassVar[int]
    MEAN_ENTROPY_BITS_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    index: int
    text: str
    finish_reason: FinishReason
    token_count: int
    mean_entropy_bits: float
    model_version: str
    def __init__(self, index: _Optional[int] = ..., text: _Optional[str] = ..., finish_reason: _Optional[_Union[FinishReason, str]] = ..., token_count: _Optional[int] = ..., mean_entropy_bits: _Optional[float] = ..., model_version: _Optional[str] = ...) -> None: ...

class DreamRequest(_message.Message):
    __slots__ = ("model", "image", "layer_weights", "octaves", "octave_scale", "steps_per_octave", "step_size", "max_loss", "jitter", "seed", "max_side", "output_format", "preview_every", "model_version")
    class LayerWeightsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    MODEL_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    LAYER_WEIGHTS_FIELD_NUMBER: _ClassVar[int]
    OCTAVES_FIELD_NUMBER: _ClassVar[int]
    OCTAVE_SCALE_FIELD_NUMBER: _ClassVar[int]
    STEPS_PER_OCTAVE_FIELD_NUMBER: _ClassVar[int]
    STEP_SIZE_FIELD_NUMBER: _ClassVar[int]
    MAX_LOSS_FIELD_NUMBER: _ClassVar[int]
    JITTER_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    MAX_SIDE_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FORMAT_FIELD_NUMBER: _ClassVar[int]
    PREVIEW_EVERY_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    model: str
    image: Image
    layer_weights: _containers.ScalarMap[str, float]
    octaves: int
    octave_scale: float
    steps_per_octave: int
    step_size: float
    max_loss: float
    jitter: int
    seed: int
    max_side: int
    output_format: ImageFormat
    preview_every: int
    model_version: str
    def __init__(self, model: _Optional[str] = ..., image: _Optional[_Union[Image, _Mapping]] = ..., layer_weights: _Optional[_Mapping[str, float]] = ..., octaves: _Optional[int] = ..., octave_scale: _Optional[float] = ..., steps_per_octave: _Optional[int] = ..., step_size: _Optional[float] = ..., max_loss: _Optional[float] = ..., jitter: _Optional[int] = ..., seed: _Optional[int] = ..., max_side: _Optional[int] = ..., output_format: _Optional[_Union[ImageFormat, str]] = ..., preview_every: _Optional[int] = ..., model_version: _Optional[str] = ...) -> None: ...

class DreamResponse(_message.Message):
    __slots__ = ("image", "loss_history", "elapsed_ms", "model_version")
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    LOSS_HISTORY_FIELD_NUMBER: _ClassVar[int]
    ELAPSED_MS_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    image: Image
    loss_history: _containers.RepeatedScalarFieldContainer[float]
    elapsed_ms: int
    model_version: str
    def __init__(self, image: _Optional[_Union[Image, _Mapping]] = ..., loss_history: _Optional[_Iterable[float]] = ..., elapsed_ms: _Optional[int] = ..., model_version: _Optional[str] = ...) -> None: ...

class Progress(_message.Message):
    __slots__ = ("step", "total_steps", "octave", "loss", "preview", "content_loss", "style_loss", "tv_loss")
    STEP_FIELD_NUMBER: _ClassVar[int]
    TOTAL_STEPS_FIELD_NUMBER: _ClassVar[int]
    OCTAVE_FIELD_NUMBER: _ClassVar[int]
    LOSS_FIELD_NUMBER: _ClassVar[int]
    PREVIEW_FIELD_NUMBER: _ClassVar[int]
    CONTENT_LOSS_FIELD_NUMBER: _ClassVar[int]
    STYLE_LOSS_FIELD_NUMBER: _ClassVar[int]
    TV_LOSS_FIELD_NUMBER: _ClassVar[int]
    step: int
    total_steps: int
    octave: int
    loss: float
    preview: Image
    content_loss: float
    style_loss: float
    tv_loss: float
    def __init__(self, step: _Optional[int] = ..., total_steps: _Optional[int] = ..., octave: _Optional[int] = ..., loss: _Optional[float] = ..., preview: _Optional[_Union[Image, _Mapping]] = ..., content_loss: _Optional[float] = ..., style_loss: _Optional[float] = ..., tv_loss: _Optional[float] = ...) -> None: ...

class DreamProgress(_message.Message):
    __slots__ = ("progress", "result", "model_version")
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    progress: Progress
    result: DreamResponse
    model_version: str
    def __init__(self, progress: _Optional[_Union[Progress, _Mapping]] = ..., result: _Optional[_Union[DreamResponse, _Mapping]] = ..., model_version: _Optional[str] = ...) -> None: ...

class StylizeRequest(_message.Message):
    __slots__ = ("model", "content", "style", "content_weight", "style_weight", "tv_weight", "style_layers", "content_layers", "steps", "optimizer", "learning_rate", "init", "preserve_color", "max_side", "seed", "output_format", "preview_every", "coarse_to_fine", "model_version")
    class StyleLayersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    MODEL_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    STYLE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_WEIGHT_FIELD_NUMBER: _ClassVar[int]
    STYLE_WEIGHT_FIELD_NUMBER: _ClassVar[int]
    TV_WEIGHT_FIELD_NUMBER: _ClassVar[int]
    STYLE_LAYERS_FIELD_NUMBER: _ClassVar[int]
    CONTENT_LAYERS_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    OPTIMIZER_FIELD_NUMBER: _ClassVar[int]
    LEARNING_RATE_FIELD_NUMBER: _ClassVar[int]
    INIT_FIELD_NUMBER: _ClassVar[int]
    PRESERVE_COLOR_FIELD_NUMBER: _ClassVar[int]
    MAX_SIDE_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FORMAT_FIELD_NUMBER: _ClassVar[int]
    PREVIEW_EVERY_FIELD_NUMBER: _ClassVar[int]
    COARSE_TO_FINE_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    model: str
    content: Image
    style: Image
    content_weight: float
    style_weight: float
    tv_weight: float
    style_layers: _containers.ScalarMap[str, float]
    content_layers: _containers.RepeatedScalarFieldContainer[str]
    steps: int
    optimizer: Optimizer
    learning_rate: float
    init: StylizeInit
    preserve_color: bool
    max_side: int
    seed: int
    output_format: ImageFormat
    preview_every: int
    coarse_to_fine: bool
    model_version: str
    def __init__(self, model: _Optional[str] = ..., content: _Optional[_Union[Image, _Mapping]] = ..., style: _Optional[_Union[Image, _Mapping]] = ..., content_weight: _Optional[float] = ..., style_weight: _Optional[float] = ..., tv_weight: _Optional[float] = ..., style_layers: _Optional[_Mapping[str, float]] = ..., content_layers: _Optional[_Iterable[str]] = ..., steps: _Optional[int] = ..., optimizer: _Optional[_Union[Optimizer, str]] = ..., learning_rate: _Optional[float] = ..., init: _Optional[_Union[StylizeInit, str]] = ..., preserve_color: _Optional[bool] = ..., max_side: _Optional[int] = ..., seed: _Optional[int] = ..., output_format: _Optional[_Union[ImageFormat, str]] = ..., preview_every: _Optional[int] = ..., coarse_to_fine: _Optional[bool] = ..., model_version: _Optional[str] = ...) -> None: ...

class StylizeResponse(_message.Message):
    __slots__ = ("image", "loss_history", "content_loss", "style_loss", "tv_loss", "elapsed_ms", "model_version")
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    LOSS_HISTORY_FIELD_NUMBER: _ClassVar[int]
    CONTENT_LOSS_FIELD_NUMBER: _ClassVar[int]
    STYLE_LOSS_FIELD_NUMBER: _ClassVar[int]
    TV_LOSS_FIELD_NUMBER: _ClassVar[int]
    ELAPSED_MS_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    image: Image
    loss_history: _containers.RepeatedScalarFieldContainer[float]
    content_loss: float
    style_loss: float
    tv_loss: float
    elapsed_ms: int
    model_version: str
    def __init__(self, image: _Optional[_Union[Image, _Mapping]] = ..., loss_history: _Optional[_Iterable[float]] = ..., content_loss: _Optional[float] = ..., style_loss: _Optional[float] = ..., tv_loss: _Optional[float] = ..., elapsed_ms: _Optional[int] = ..., model_version: _Optional[str] = ...) -> None: ...

class StylizeProgress(_message.Message):
    __slots__ = ("progress", "result", "model_version")
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    progress: Progress
    result: StylizeResponse
    model_version: str
    def __init__(self, progress: _Optional[_Union[Progress, _Mapping]] = ..., result: _Optional[_Union[StylizeResponse, _Mapping]] = ..., model_version: _Optional[str] = ...) -> None: ...

class Grid(_message.Message):
    __slots__ = ("axis_x", "axis_y", "steps", "extent")
    AXIS_X_FIELD_NUMBER: _ClassVar[int]
    AXIS_Y_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    EXTENT_FIELD_NUMBER: _ClassVar[int]
    axis_x: int
    axis_y: int
    steps: int
    extent: float
    def __init__(self, axis_x: _Optional[int] = ..., axis_y: _Optional[int] = ..., steps: _Optional[int] = ..., extent: _Optional[float] = ...) -> None: ...

class DecodeRequest(_message.Message):
    __slots__ = ("model", "latents", "count", "seed", "grid", "output_format", "model_version")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    LATENTS_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    GRID_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FORMAT_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    model: str
    latents: _containers.RepeatedCompositeFieldContainer[Vector]
    count: int
    seed: int
    grid: Grid
    output_format: ImageFormat
    model_version: str
    def __init__(self, model: _Optional[str] = ..., latents: _Optional[_Iterable[_Union[Vector, _Mapping]]] = ..., count: _Optional[int] = ..., seed: _Optional[int] = ..., grid: _Optional[_Union[Grid, _Mapping]] = ..., output_format: _Optional[_Union[ImageFormat, str]] = ..., model_version: _Optional[str] = ...) -> None: ...

class DecodeResponse(_message.Message):
    __slots__ = ("images", "latents", "model_version")
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    LATENTS_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    images: _containers.RepeatedCompositeFieldContainer[Image]
    latents: _containers.RepeatedCompositeFieldContainer[Vector]
    model_version: str
    def __init__(self, images: _Optional[_Iterable[_Union[Image, _Mapping]]] = ..., latents: _Optional[_Iterable[_Union[Vector, _Mapping]]] = ..., model_version: _Optional[str] = ...) -> None: ...

class AttributeEdit(_message.Message):
    __slots__ = ("attribute", "strength")
    ATTRIBUTE_FIELD_NUMBER: _ClassVar[int]
    STRENGTH_FIELD_NUMBER: _ClassVar[int]
    attribute: str
    strength: float
    def __init__(self, attribute: _Optional[str] = ..., strength: _Optional[float] = ...) -> None: ...

class EditLatentRequest(_message.Message):
    __slots__ = ("model", "image", "latent", "edits", "direction", "strengths", "target_image", "target_latent", "interpolation_steps", "interpolation", "output_format", "sweep_attribute", "model_version")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    LATENT_FIELD_NUMBER: _ClassVar[int]
    EDITS_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    STRENGTHS_FIELD_NUMBER: _ClassVar[int]
    TARGET_IMAGE_FIELD_NUMBER: _ClassVar[int]
    TARGET_LATENT_FIELD_NUMBER: _ClassVar[int]
    INTERPOLATION_STEPS_FIELD_NUMBER: _ClassVar[int]
    INTERPOLATION_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FORMAT_FIELD_NUMBER: _ClassVar[int]
    SWEEP_ATTRIBUTE_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    model: str
    image: Image
    latent: Vector
    edits: _containers.RepeatedCompositeFieldContainer[AttributeEdit]
    direction: Vector
    strengths: _containers.RepeatedScalarFieldContainer[float]
    target_image: Image
    target_latent: Vector
    interpolation_steps: int
    interpolation: Interpolation
    output_format: ImageFormat
    sweep_attribute: str
    model_version: str
    def __init__(self, model: _Optional[str] = ..., image: _Optional[_Union[Image, _Mapping]] = ..., latent: _Optional[_Union[Vector, _Mapping]] = ..., edits: _Optional[_Iterable[_Union[AttributeEdit, _Mapping]]] = ..., direction: _Optional[_Union[Vector, _Mapping]] = ..., strengths: _Optional[_Iterable[float]] = ..., target_image: _Optional[_Union[Image, _Mapping]] = ..., target_latent: _Optional[_Union[Vector, _Mapping]] = ..., interpolation_steps: _Optional[int] = ..., interpolation: _Optional[_Union[Interpolation, str]] = ..., output_format: _Optional[_Union[ImageFormat, str]] = ..., sweep_attribute: _Optional[str] = ..., model_version: _Optional[str] = ...) -> None: ...

class EditLatentResponse(_message.Message):
    __slots__ = ("images", "latents", "source_latent", "model_version")
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    LATENTS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_LATENT_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    images: _containers.RepeatedCompositeFieldContainer[Image]
    latents: _containers.RepeatedCompositeFieldContainer[Vector]
    source_latent: Vector
    model_version: str
    def __init__(self, images: _Optional[_Iterable[_Union[Image, _Mapping]]] = ..., latents: _Optional[_Iterable[_Union[Vector, _Mapping]]] = ..., source_latent: _Optional[_Union[Vector, _Mapping]] = ..., model_version: _Optional[str] = ...) -> None: ...

class LoadModelRequest(_message.Message):
    __slots__ = ("name", "version")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    name: str
    version: str
    def __init__(self, name: _Optional[str] = ..., version: _Optional[str] = ...) -> None: ...

class UnloadModelRequest(_message.Message):
    __slots__ = ("name", "version")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    name: str
    version: str
    def __init__(self, name: _Optional[str] = ..., version: _Optional[str] = ...) -> None: ...

class RepositoryIndexRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RepositoryEntry(_message.Message):
    __slots__ = ("name", "version", "kind", "status", "reason")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    name: str
    version: str
    kind: ModelKind
    status: ModelStatus
    reason: str
    def __init__(self, name: _Optional[str] = ..., version: _Optional[str] = ..., kind: _Optional[_Union[ModelKind, str]] = ..., status: _Optional[_Union[ModelStatus, str]] = ..., reason: _Optional[str] = ...) -> None: ...

class RepositoryIndexResponse(_message.Message):
    __slots__ = ("models",)
    MODELS_FIELD_NUMBER: _ClassVar[int]
    models: _containers.RepeatedCompositeFieldContainer[RepositoryEntry]
    def __init__(self, models: _Optional[_Iterable[_Union[RepositoryEntry, _Mapping]]] = ...) -> None: ...

"""What a decoded JSON body may hold before it becomes a protobuf message: every list and string
bounded, every number finite and within 64 bits, every string valid UTF-8.

``check_message`` walks a body against the request message's descriptor, refusing (``FieldError``
naming the field) a list longer than its cap before looking at its items, so a body of a million
empty latents costs one ``len()``. ``check_json`` does the number and text checks on any JSON value
(the OpenAI body, which is not a proto message). Both run on the body pool, never on the event loop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from oneiros_server.errors import FieldError, echo, short
from oneiros_server.settings import Settings

MAX_NAME_CHARS = 256  # model names, versions, attribute and layer names, enum names
MAX_EDITS = 64  # attribute edits in one EditLatent
MAX_LAYERS = 64  # layer weights and layer names in one Dream/Stylize
MAX_VECTOR_VALUES = 65536  # numbers in one latent vector
MAX_OTHER_LIST = 1024  # any other list
MAX_INT = 2**64
_FLOATS = (FieldDescriptor.TYPE_FLOAT, FieldDescriptor.TYPE_DOUBLE)
_INTS = {FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_UINT32}
_INTS |= {FieldDescriptor.TYPE_UINT64, FieldDescriptor.TYPE_SINT32, FieldDescriptor.TYPE_SINT64}


@dataclass(frozen=True)
class Caps:
    """The caps of one server, from its settings (documented in docs/http.md)."""

    prompt_chars: int
    stop: int
    images: int
    image_base64_chars: int

    @classmethod
    def of(cls, s: Settings) -> Caps:
        return cls(s.sample_max_prompt_chars, s.sample_max_stop, s.max_images_per_request, _base64(s.max_image_bytes))

    def items(self, message: str, field: str) -> int:
        """Most entries in the list (or map) ``message.field``."""
        return {
            ("DecodeRequest", "latents"): self.images,
            ("EditLatentRequest", "strengths"): self.images,
            ("EditLatentRequest", "edits"): MAX_EDITS,
            ("SampleRequest", "stop"): self.stop,
            ("Vector", "values"): MAX_VECTOR_VALUES,
        }.get((message, field), MAX_LAYERS if "layer" in field else MAX_OTHER_LIST)

    def chars(self, message: str, field: str) -> int:
        """Longest string in ``message.field``."""
        if message == "SampleRequest" and field in ("prompt", "stop"):
            return self.prompt_chars
        if message == "Image" and field == "data":
            return self.image_base64_chars
        return MAX_NAME_CHARS


def _base64(size: int) -> int:
    return 4 * ((size + 2) // 3)


def check_message(data: dict, descriptor: Descriptor, caps: Caps, path: str = "") -> None:
    """Refuse what ``data`` holds beyond the caps, or cannot become a ``descriptor`` message."""
    for key, value in data.items():
        _text(key, path or "body")  # before the lookup: protobuf's own fails on a lone surrogate
        field = field_named(descriptor, key)
        if field is None:
            if not path:
                names = ", ".join(f.json_name for f in descriptor.fields)
                raise FieldError(short(key), f"{descriptor.name} has no field {echo(key)}; its fields are {names}")
            continue  # the converter names unknown nested fields
        name = f"{path}.{field.name}" if path else field.name
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            _check_map(value, field, name, caps)
        elif field.is_repeated and isinstance(value, list):
            limit = caps.items(descriptor.name, field.name)
            if len(value) > limit:
                raise FieldError(name, f"has {len(value)} entries; at most {limit}")
            for item in value:
                _check_value(item, field, descriptor.name, name, caps)
        else:
            _check_value(value, field, descriptor.name, name, caps)


def _check_map(value: object, field: FieldDescriptor, name: str, caps: Caps) -> None:
    if not isinstance(value, dict):
        return  # the converter refuses it, naming the field
    limit = caps.items(field.containing_type.name, field.name)
    if len(value) > limit:
        raise FieldError(name, f"has {len(value)} entries; at most {limit}")
    entry = field.message_type
    for key, item in value.items():
        _string(key, name, MAX_NAME_CHARS)
        _check_value(item, entry.fields_by_name["value"], entry.name, name, caps)


def _check_value(value: object, field: FieldDescriptor, message: str, name: str, caps: Caps) -> None:
    if isinstance(value, dict) and field.message_type is not None:
        check_message(value, field.message_type, caps, name)
    elif isinstance(value, str):
        limit = caps.chars(message, field.name) if field.type != FieldDescriptor.TYPE_MESSAGE else MAX_NAME_CHARS
        _string(value, name, limit)
        if field.type in _FLOATS and value.strip().lower().lstrip("+-") in ("nan", "inf", "infinity"):
            raise FieldError(name, "must be a finite number")
        if field.type in _INTS and len(value) > 24:
            raise FieldError(name, f"is out of range: integers are at most 64 bits ({len(value)} digits)")
    else:
        _number(value, name)


def check_json(value: object, name: str = "body", depth: int = 0) -> None:
    """Numbers finite and within 64 bits, strings valid UTF-8, anywhere in ``value``."""
    if isinstance(value, dict):
        for key, item in value.items():
            _string(key, name, MAX_NAME_CHARS)
            check_json(item, key if depth == 0 else name, depth + 1)
    elif isinstance(value, list):
        for item in value:
            check_json(item, name, depth + 1)
    elif isinstance(value, str):
        _text(value, name)
    else:
        _number(value, name)


def _number(value: object, name: str) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise FieldError(name, "must be a finite number (NaN, Infinity and overflowing values are refused)")
    if isinstance(value, int) and not isinstance(value, bool) and not -MAX_INT < value < MAX_INT:
        raise FieldError(name, "is out of range: integers are at most 64 bits")


def _string(value: str, name: str, limit: int) -> None:
    if len(value) > limit:
        raise FieldError(name, f"is {len(value)} characters long; at most {limit}")
    _text(value, name)


def _text(value: str, name: str) -> str:
    """``value`` if it can be encoded as UTF-8 (no lone surrogates), else FieldError naming ``name``."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise FieldError(_safe(name), "is not valid Unicode (a lone surrogate)") from None
    return value


def _safe(name: str) -> str:
    return name.encode("utf-8", "backslashreplace").decode("utf-8")[:MAX_NAME_CHARS]


def field_named(descriptor: Descriptor, key: str) -> FieldDescriptor | None:
    """The field of ``descriptor`` called ``key`` in the proto or in JSON (lowerCamelCase)."""
    field = descriptor.fields_by_name.get(key)
    if field is None:
        field = next((f for f in descriptor.fields if f.json_name == key), None)
    return field

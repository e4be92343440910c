"""Request bodies -> proto messages and proto messages -> JSON, in protobuf's canonical JSON mapping.

The JSON schema is the proto's (``google.protobuf.json_format``): field names in lowerCamelCase
or as in the proto, enums by name, 64-bit integers as strings or numbers, bytes (images) as
base64. Image fields may also be sent as files in ``multipart/form-data``, with the other
fields as form fields (scalars as text, messages, maps and lists as JSON).

Two fields belong to HTTP, not to the message: ``stream`` (answer with server-sent events)
and ``timeout`` (seconds, like the header).
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass

from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from starlette.requests import Request

from oneiros_server.errors import FieldError, echo, short
from oneiros_server.transport.http import forms, shapes
from oneiros_server.transport.http.errors import HttpError
from oneiros_server.transport.http.shapes import Caps

JSON = "application/json"
MULTIPART = "multipart/form-data"
URLENCODED = "application/x-www-form-urlencoded"
HTTP_FIELDS = ("stream", "timeout")
MAX_JSON_OBJECTS = 4096  # {...} in one body: a Decode of 256 latents has 258


@dataclass
class Extras:
    """The HTTP-only fields of a body."""

    stream: bool = False
    timeout: object = None  # as sent; ``calls.timeout_s`` reads it


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def decode(body: bytes, content_type: str, cls: type[Message], caps: Caps) -> tuple[Message, Extras]:
    """The request message of type ``cls`` from a JSON, multipart or urlencoded body.

    CPU-bound and proportional to the body: the caller runs it on the body pool, off the event loop.
    """
    kind = content_type.split(";")[0].strip().lower()
    if kind == JSON or kind.endswith("+json") or not kind:
        data = json_object(body)
    elif kind == URLENCODED:
        if body.lstrip().startswith(b"{"):
            raise HttpError(415, "INVALID_ARGUMENT", f"a JSON body needs 'Content-Type: {JSON}'")
        data = _form_object(forms.urlencoded(body), cls.DESCRIPTOR)
    elif kind == MULTIPART:
        data = _form_object(forms.multipart(body, content_type), cls.DESCRIPTOR)
    else:
        raise HttpError(415, "INVALID_ARGUMENT", f"send Content-Type {JSON} or {MULTIPART}, not {kind or 'none'}")
    extras = Extras(stream=flag(data.pop("stream", False)), timeout=data.pop("timeout", None))
    return to_message(data, cls, caps), extras


def to_message(data: dict, cls: type[Message], caps: Caps) -> Message:
    """``data`` (a decoded JSON object) as a ``cls`` message; FieldError names what does not fit."""
    descriptor = cls.DESCRIPTOR
    shapes.check_message(data, descriptor, caps)
    try:
        return json_format.ParseDict(data, cls())
    except json_format.ParseError as exc:
        # The parser's own words describe the client's input (never server state): pass the first line on.
        first_line = str(exc).splitlines()[0] if str(exc) else "does not fit the message"
        named = re.search(r"Failed to parse (\w+) field", first_line)
        raise FieldError(named.group(1) if named else "body", first_line[:300]) from None
    except (ValueError, TypeError, OverflowError, RecursionError):
        raise FieldError("body", f"does not fit {descriptor.name}") from None


def to_json(message: Message) -> dict:
    """A message as its canonical JSON object (fields at their default value are left out)."""
    return json_format.MessageToDict(message)


class TooManyObjects(ValueError):
    """More JSON objects than any request needs."""


def loads(text: bytes | str):
    """``json.loads`` with at most ``MAX_JSON_OBJECTS`` objects, that lets other threads run.

    The hooks are Python functions on purpose: the C decoder holds the GIL for the whole parse,
    and a call into Python lets the event loop's thread take it between two values, so a large
    body parsed on the pool cannot stall the loop (a 2 MB list of numbers: a 0.24 s stall without
    them, 0.03 s with them). The object count stops a body of a million empty objects early.
    """
    objects = 0

    def an_object(pairs: list) -> dict:
        nonlocal objects
        objects += 1
        if objects > MAX_JSON_OBJECTS:
            raise TooManyObjects(f"the body holds over {MAX_JSON_OBJECTS} JSON objects")
        return dict(pairs)

    return json.loads(text, object_pairs_hook=an_object, parse_float=lambda s: float(s), parse_int=lambda s: int(s))


def json_object(body: bytes) -> dict:
    """The body as a JSON object; 400 for anything else."""
    if not body.strip():
        return {}
    try:
        data = loads(body)
    except TooManyObjects as exc:
        raise HttpError(400, "INVALID_ARGUMENT", str(exc)) from None
    except UnicodeDecodeError:
        raise HttpError(400, "INVALID_ARGUMENT", "the body is not UTF-8 JSON") from None
    except json.JSONDecodeError as exc:
        raise HttpError(
            400, "INVALID_ARGUMENT", f"the body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except RecursionError:
        raise HttpError(400, "INVALID_ARGUMENT", "the body is nested too deeply") from None
    except ValueError:  # an integer of more than 4,300 digits (Python's own limit)
        raise HttpError(400, "INVALID_ARGUMENT", "the body holds a number with too many digits") from None
    if not isinstance(data, dict):
        raise HttpError(400, "INVALID_ARGUMENT", f"the body must be a JSON object, not {type(data).__name__}")
    return data


def _form_object(items: list[tuple[str, str | forms.File]], descriptor: Descriptor) -> dict:
    data: dict = {}
    for key, value in items:
        if key in HTTP_FIELDS and isinstance(value, str):
            data[key] = value
            continue
        field = shapes.field_named(descriptor, key)
        if field is None:
            names = ", ".join(f.name for f in descriptor.fields)
            raise FieldError(short(key), f"{descriptor.name} has no field {echo(key)}; its fields are {names}")
        if isinstance(value, forms.File):
            if field.message_type is None or field.message_type.name != "Image":
                raise FieldError(key, "is not an image field; send it as a plain form field")
            data[key] = {"data": base64.b64encode(value.data).decode()}
        elif _is_map(field) or field.type == FieldDescriptor.TYPE_MESSAGE:
            data[key] = _form_json(key, value)
        elif _is_repeated(field):
            parsed = _form_json(key, value) if value.lstrip().startswith("[") else [_scalar(field, key, value)]
            data.setdefault(key, []).extend(parsed if isinstance(parsed, list) else [parsed])
        else:
            data[key] = _scalar(field, key, value)
    return data


def _is_map(field: FieldDescriptor) -> bool:
    return field.message_type is not None and field.message_type.GetOptions().map_entry


def _is_repeated(field: FieldDescriptor) -> bool:
    return field.is_repeated


def _scalar(field: FieldDescriptor, key: str, value: str):
    if field.type in (FieldDescriptor.TYPE_STRING, FieldDescriptor.TYPE_ENUM, FieldDescriptor.TYPE_BYTES):
        return value
    if field.type == FieldDescriptor.TYPE_BOOL:
        return flag(value, key)
    return _form_json(key, value)


def _form_json(key: str, value: str):
    try:
        return loads(value)
    except (ValueError, RecursionError):  # not JSON, too many objects, or an integer of over 4,300 digits
        raise FieldError(key, f"{echo(value, 40)} is not a number or a JSON value") from None


def flag(value, key: str = "stream") -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "1", "yes", "false", "0", "no", ""):
        return value.lower() in ("true", "1", "yes")
    raise FieldError(key, "must be true or false")

"""``/openapi.json``: every route, with schemas made from the proto descriptors (one schema).

Message schemas follow protobuf's canonical JSON mapping: lowerCamelCase property names (the
proto's snake_case names are accepted too), enums by name, 64-bit integers as strings or
numbers, bytes as base64, maps as objects, ``google.protobuf.Struct`` as any object.
"""

from __future__ import annotations

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from oneiros_server.transport.http.openai_schema import (
    COMPLETIONS_PATH,
    JSON_EXTRAS,
    completions_operation,
    completions_schemas,
)
from oneiros_server.transport.rpcs import RPCS, Rpc

_SCALARS = {
    FieldDescriptor.TYPE_DOUBLE: {"type": "number"},
    FieldDescriptor.TYPE_FLOAT: {"type": "number"},
    FieldDescriptor.TYPE_INT32: {"type": "integer", "format": "int32"},
    FieldDescriptor.TYPE_SINT32: {"type": "integer", "format": "int32"},
    FieldDescriptor.TYPE_UINT32: {"type": "integer", "format": "int32", "minimum": 0},
    FieldDescriptor.TYPE_INT64: {"type": ["string", "integer"], "format": "int64"},
    FieldDescriptor.TYPE_UINT64: {"type": ["string", "integer"], "format": "uint64"},
    FieldDescriptor.TYPE_BOOL: {"type": "boolean"},
    FieldDescriptor.TYPE_STRING: {"type": "string"},
    FieldDescriptor.TYPE_BYTES: {"type": "string", "contentEncoding": "base64"},
}
_WELL_KNOWN = {
    "google.protobuf.Struct": {"type": "object", "additionalProperties": True},
    "google.protobuf.Value": {},
    "google.protobuf.ListValue": {"type": "array"},
}
ERROR = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "integer", "description": "the HTTP status"},
                "status": {"type": "string", "description": "the canonical status name (gRPC code)"},
                "message": {"type": "string"},
                "details": {"type": "array", "items": {"type": "object"}},
            },
        }
    },
}
ERRORS = {
    "400": "invalid field (details: google.rpc.BadRequest field violations), bad JSON",
    "401": "missing or unknown bearer token",
    "403": "a cross-site browser request (Origin, Sec-Fetch-Site) or a Host this server does not answer",
    "404": "unknown model",
    "408": "the headers or the body took longer than --http-read-timeout-s",
    "413": "body over the route's size limit",
    "415": "unsupported Content-Type",
    "431": "headers over --http-max-header-bytes or --http-max-headers",
    "422": "model of the wrong kind for this call",
    "429": "at capacity; retry after the Retry-After header",
    "503": "loading or shutting down",
    "504": "deadline passed",
}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _field(field: FieldDescriptor, schemas: dict) -> dict:
    message = field.message_type
    if message is not None and message.GetOptions().map_entry:
        return {"type": "object", "additionalProperties": _field(message.fields_by_name["value"], schemas)}
    if message is not None and message.full_name in _WELL_KNOWN:
        one = dict(_WELL_KNOWN[message.full_name])
    elif message is not None:
        _message(message, schemas)
        one = _ref(message.name)
    elif field.enum_type is not None:
        one = {"type": "string", "enum": [v.name for v in field.enum_type.values]}
    else:
        one = dict(_SCALARS[field.type])
    if field.is_repeated:
        return {"type": "array", "items": one}
    return one


def _message(descriptor: Descriptor, schemas: dict) -> None:
    """Add ``descriptor`` (and what it uses) to ``schemas`` under its short name."""
    if descriptor.name in schemas:
        return
    schemas[descriptor.name] = {}  # placeholder: recursion stops here
    properties = {f.json_name: _field(f, schemas) for f in descriptor.fields}
    schemas[descriptor.name] = {"type": "object", "properties": properties, "additionalProperties": False}


def _form(route: Rpc) -> dict:
    properties = {name: {"type": "string", "format": "binary"} for name in route.image_fields}
    text = "the other fields as form fields (scalars as text; messages, maps and lists as JSON)"
    return {"type": "object", "properties": properties, "additionalProperties": True, "description": text}


def _errors() -> dict:
    body = {"application/json": {"schema": _ref("Error")}}
    return {code: {"description": text, "content": body} for code, text in ERRORS.items()}


def _operation(route: Rpc, stream: bool) -> dict:
    name = route.stream_rpc if stream else route.rpc
    op: dict = {"operationId": name, "summary": route.summary, "tags": [route.rpc]}
    op["parameters"] = [{"name": "timeout", "in": "header", "schema": {"type": "string"}, "description": "e.g. 30"}]
    if route.method == "GET":
        params = [f for f in route.request.DESCRIPTOR.fields if f.name != "name"]
        op["parameters"] += [{"name": f.name, "in": "query", "schema": {"type": "string"}} for f in params]
        if "{name}" in route.path:
            op["parameters"].append({"name": "name", "in": "path", "required": True, "schema": {"type": "string"}})
    else:
        content = {"application/json": {"schema": _ref(route.request.DESCRIPTOR.name)}}
        if route.image_fields:
            content["multipart/form-data"] = {"schema": _form(route)}
        op["requestBody"] = {"required": False, "content": content}
    if stream:
        assert route.stream_message is not None
        text = f"server-sent events: one `data:` {route.stream_message.DESCRIPTOR.name} per event; `event: error`"
        ok = {"description": text, "content": {"text/event-stream": {"schema": {"type": "string"}}}}
    else:
        content = {"application/json": {"schema": _ref(route.response.DESCRIPTOR.name)}}
        if route.images is not None:
            for media in ("image/png", "image/jpeg", "image/webp"):
                content[media] = {"schema": {"type": "string", "format": "binary"}}
        ok = {"description": f"a {route.response.DESCRIPTOR.name}", "content": content}
    op["responses"] = {"200": ok} | _errors()
    return op


def document(version: str) -> dict:
    """The OpenAPI 3.1 document of the HTTP transport."""
    schemas: dict = {"Error": ERROR}
    paths: dict = {}
    for route in RPCS:
        for message in (route.request, route.response, route.stream_message):
            if message is not None:
                _message(message.DESCRIPTOR, schemas)
        if route.rpc in JSON_EXTRAS:
            schemas[route.response.DESCRIPTOR.name]["properties"] |= JSON_EXTRAS[route.rpc][1]
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route, stream=False)
        if route.stream_handler is not None:
            paths[f"{route.path}/stream"] = {"post": _operation(route, stream=True)}
    paths[COMPLETIONS_PATH] = {"post": completions_operation()}
    schemas |= completions_schemas()
    info = {
        "title": "Oneiros HTTP/JSON",
        "version": version,
        "description": "The Oneiros RPCs over HTTP/JSON (bodies in protobuf's canonical JSON mapping) "
        "and an OpenAI-compatible /v1/completions. Send 'Authorization: Bearer <token>' when the server has tokens.",
    }
    security = {"bearer": {"type": "http", "scheme": "bearer"}}
    return {
        "openapi": "3.1.0",
        "info": info,
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": security},
        "security": [{"bearer": []}, {}],
    }

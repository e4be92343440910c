"""The OpenAPI description of ``POST /v1/completions`` (the subset of OpenAI's API served)."""

from __future__ import annotations

COMPLETIONS_PATH = "/v1/completions"

# GET /v1/models answers OpenAI's model list ("object", "data") beside the native "models".
MODEL_LIST_PROPERTIES = {
    "object": {"type": "string", "enum": ["list"], "description": "OpenAI's list shape"},
    "data": {
        "type": "array",
        "description": "the models as OpenAI's clients read them (client.models.list())",
        "items": {
            "type": "object",
            "properties": {
                "id": {"type": "string"},
                "object": {"type": "string", "enum": ["model"]},
                "created": {"type": "integer"},
                "owned_by": {"type": "string"},
            },
        },
    },
}


def openai_model_list(body: dict) -> dict:
    """The native ListModels JSON with OpenAI's ``object``/``data`` added (names only)."""
    data = [{"id": m["name"], "object": "model", "created": 0, "owned_by": "oneiros"} for m in body.get("models", [])]
    return body | {"object": "list", "data": data}


# RPC -> (what it adds to the native JSON answer, its OpenAPI properties)
JSON_EXTRAS = {"ListModels": (openai_model_list, MODEL_LIST_PROPERTIES)}

_STRINGS = {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}
REQUEST = {
    "type": "object",
    "required": ["prompt"],
    "properties": {
        "model": {"type": "string", "description": "a language model's name ('' = the default)"},
        "prompt": _STRINGS | {"description": "a prompt, or a list of prompts"},
        "max_tokens": {"type": "integer", "minimum": 0, "description": "characters per choice (default: the model's)"},
        "temperature": {"type": "number", "minimum": 0, "description": "0 = greedy (default: the model's)"},
        "top_p": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
        "n": {"type": "integer", "minimum": 1, "description": "choices per prompt"},
        "stop": _STRINGS | {"description": "stop sequences (not included in the text)"},
        "seed": {"type": "integer", "minimum": 0, "description": "same seed and request = same text"},
        "stream": {"type": "boolean", "description": "server-sent chunks, then data: [DONE]"},
        "stream_options": {"type": "object", "properties": {"include_usage": {"type": "boolean"}}},
        "user": {"type": "string", "description": "accepted and ignored"},
    },
    "additionalProperties": False,
    "description": "Other OpenAI parameters are refused (400) unless they have their no-op value.",
}
_CHOICE = {
    "type": "object",
    "properties": {
        "text": {"type": "string"},
        "index": {"type": "integer"},
        "logprobs": {"type": "null"},
        "finish_reason": {"enum": ["length", "stop", None]},
    },
}
_USAGE = {
    "type": "object",
    "properties": {k: {"type": "integer"} for k in ("prompt_tokens", "completion_tokens", "total_tokens")},
}
RESPONSE = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "object": {"const": "text_completion"},
        "created": {"type": "integer"},
        "model": {"type": "string"},
        "choices": {"type": "array", "items": _CHOICE},
        "usage": _USAGE,
    },
}
ERROR = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "message": {"type": "string"},
                "type": {"type": "string"},
                "param": {"type": ["string", "null"]},
                "code": {"type": ["string", "null"]},
            },
        }
    },
}


def completions_schemas() -> dict:
    return {"CompletionRequest": REQUEST, "Completion": RESPONSE, "OpenAIError": ERROR}


def completions_operation() -> dict:
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/OpenAIError"}}}
    return {
        "operationId": "CreateCompletion",
        "summary": "OpenAI-compatible text completion over Sample",
        "tags": ["OpenAI"],
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CompletionRequest"}}},
        },
        "responses": {
            "200": {
                "description": "a completion, or with stream: true server-sent chunks ending with data: [DONE]",
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Completion"}},
                    "text/event-stream": {"schema": {"type": "string"}},
                },
            },
            "4XX": {"description": "OpenAI's error shape", "content": error},
            "5XX": {"description": "OpenAI's error shape", "content": error},
        },
    }

"""One check of every enum field of every request, before any other work.

proto3 enums are open: a client may send any number, and the generated code keeps
it. Every RPC's transport module calls :func:`check_enums` first, so an unknown
number is INVALID_ARGUMENT naming the field and the allowed names, whichever
message (or nested message, repeated entry or map value) it sits in.
"""

from __future__ import annotations

from collections.abc import Iterator

from google.protobuf.descriptor import EnumDescriptor, FieldDescriptor
from google.protobuf.message import Message

from oneiros_server.errors import FieldError, Violation


def _allowed(enum: EnumDescriptor) -> str:
    return ", ".join(f"{v.name} ({v.number})" for v in enum.values)


def _check_value(enum: EnumDescriptor, value: int, path: str) -> Iterator[Violation]:
    if value not in enum.values_by_number:
        yield Violation(path, f"is {value}, not a known {enum.name}; allowed {_allowed(enum)}")


def _check_field(field: FieldDescriptor, value, path: str) -> Iterator[Violation]:
    if field.type == FieldDescriptor.TYPE_ENUM:
        yield from _check_value(field.enum_type, value, path)
    elif field.type == FieldDescriptor.TYPE_MESSAGE:
        yield from _walk(value, path + ".")


def _walk(message: Message, prefix: str) -> Iterator[Violation]:
    for field, value in message.ListFields():
        path = prefix + field.name
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            value_field = field.message_type.fields_by_name["value"]
            for key in sorted(value):
                yield from _check_field(value_field, value[key], f"{path}[{key}]")
        elif field.is_repeated:
            for i, item in enumerate(value):
                yield from _check_field(field, item, f"{path}[{i}]")
        else:
            yield from _check_field(field, value, path)


def check_enums(request: Message) -> None:
    """Raise FieldError (every offending field) if any enum field holds an unknown number."""
    violations = list(_walk(request, ""))
    if violations:
        raise FieldError(violations[0].field, violations[0].description, *violations[1:])

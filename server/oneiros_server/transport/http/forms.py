"""Form bodies (``application/x-www-form-urlencoded``, ``multipart/form-data``) -> (name, value) pairs.

Synchronous, over a body already read within its limit, so that it runs on the body pool and never
on the event loop. Both refuse more than ``MAX_FIELDS`` fields with a count done in C before any
field is parsed, so a body of a million separators costs one ``bytes.count``.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl

from python_multipart.multipart import MultipartParser, parse_options_header

from oneiros_server.transport.http.errors import HttpError

MAX_FIELDS = 64  # fields (files included) in one form
MAX_FILES = 8  # image files in one multipart form


@dataclass(frozen=True)
class File:
    """An uploaded file's bytes."""

    data: bytes


def _refuse(message: str) -> HttpError:
    return HttpError(400, "INVALID_ARGUMENT", f"the form body could not be parsed: {message}")


def urlencoded(body: bytes) -> list[tuple[str, str | File]]:
    if body.count(b"&") >= MAX_FIELDS:
        raise _refuse(f"more than {MAX_FIELDS} fields")
    try:
        return list(parse_qsl(body.decode("ascii"), keep_blank_values=True, errors="strict"))
    except (UnicodeDecodeError, ValueError):
        raise _refuse("not percent-encoded UTF-8") from None


def multipart(body: bytes, content_type: str) -> list[tuple[str, str | File]]:
    _, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if not boundary:
        raise _refuse("the content type has no boundary")
    if body.count(b"--" + boundary) > MAX_FIELDS + 1:
        raise _refuse(f"more than {MAX_FIELDS} parts")
    parts = _Parts()
    parser = MultipartParser(boundary, parts.callbacks())
    try:
        parser.write(body)
        parser.finalize()
    except HttpError:
        raise
    except Exception:  # python-multipart's own errors for malformed bodies
        raise _refuse("malformed multipart data") from None
    return parts.items


class _Parts:
    """Collects (name, text or File) per part from python-multipart's callbacks."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str | File]] = []
        self.files = 0
        self._field = self._value = b""
        self._headers: dict[bytes, bytes] = {}
        self._data = bytearray()

    def callbacks(self) -> dict:
        return {
            "on_part_begin": self._begin,
            "on_header_field": lambda data, start, end: self._add("_field", data[start:end]),
            "on_header_value": lambda data, start, end: self._add("_value", data[start:end]),
            "on_header_end": self._header_end,
            "on_part_data": lambda data, start, end: self._data.extend(data[start:end]),
            "on_part_end": self._end,
        }

    def _add(self, name: str, data: bytes) -> None:
        setattr(self, name, getattr(self, name) + data)
        if len(self._field) + len(self._value) > 4096:
            raise _refuse("a part's header is over 4096 bytes")

    def _begin(self) -> None:
        self._headers, self._data = {}, bytearray()

    def _header_end(self) -> None:
        self._headers[self._field.lower()] = self._value
        self._field = self._value = b""

    def _end(self) -> None:
        if len(self.items) >= MAX_FIELDS:
            raise _refuse(f"more than {MAX_FIELDS} parts")
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = options.get(b"name")
        if name is None:
            raise _refuse("a part has no name")
        try:
            key = name.decode("utf-8")
            if b"filename" in options:
                self.files += 1
                if self.files > MAX_FILES:
                    raise _refuse(f"more than {MAX_FILES} files")
                self.items.append((key, File(bytes(self._data))))
            else:
                self.items.append((key, self._data.decode("utf-8")))
        except UnicodeDecodeError:
            raise _refuse("a field is not UTF-8") from None

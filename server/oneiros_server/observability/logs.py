"""Structured logs: one JSON object per line (or plain text with --no-log-json)."""

from __future__ import annotations

import json
import logging
import time

from oneiros_server.errors import short

# Attributes of a LogRecord that are not user fields passed with extra=...
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


MAX_FIELD_CHARS = 256


def _cut(value: object) -> object:
    return short(value, MAX_FIELD_CHARS) if isinstance(value, str) else value


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        # Fields may hold what a client sent (a model name, a message that quotes it): cut as replies cut them.
        entry.update({k: _cut(v) for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure(level: str = "INFO", json_lines: bool = True) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonFormatter() if json_lines else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)

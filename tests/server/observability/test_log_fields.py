"""Log fields that may hold what a client sent are cut as replies cut them (issue 25, item 6)."""

from __future__ import annotations

import json
import logging

from oneiros_server.observability.logs import MAX_FIELD_CHARS, JsonFormatter


def test_a_huge_model_name_makes_a_short_log_line():
    record = logging.LogRecord("oneiros.calls", logging.INFO, __file__, 1, "call", (), None)
    record.model = "m" * 100_000
    record.code = "NOT_FOUND"
    line = JsonFormatter().format(record)
    entry = json.loads(line)
    assert len(line) < 1000 and entry["code"] == "NOT_FOUND"
    assert entry["model"].startswith("m" * MAX_FIELD_CHARS) and entry["model"].endswith("(100000 characters)")

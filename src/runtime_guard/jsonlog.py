"""``JSONLinesFormatter``: one JSON object per guard log record, for files CI can read.

``LOGGING = {"formatters": {"jsonl": {"()": "runtime_guard.jsonlog.JSONLinesFormatter"}}, ...}``
"""

from __future__ import annotations

import json
import logging
from typing import Any

from runtime_guard.records import EXTRA_FIELDS

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JSONLinesFormatter(logging.Formatter):
    """Format a record as a single JSON line: time, level, logger, message, guard fields."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": record.created,
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key in EXTRA_FIELDS or key not in _STANDARD:
                out[key] = value
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)

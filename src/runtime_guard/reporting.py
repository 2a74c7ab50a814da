"""Sinks for records: the ``runtime_guard`` logger (structured ``extra``) and Python warnings."""

from __future__ import annotations

import logging
import warnings

from runtime_guard.records import Record

logger = logging.getLogger("runtime_guard")


class AsyncORMGuardWarning(RuntimeWarning):
    """Warning category of the guard's ``warn`` mode."""


def log(record: Record, level: int = logging.WARNING) -> None:
    """Send ``record`` to the ``runtime_guard`` logger with its fields in ``extra``."""
    if logger.isEnabledFor(level):
        logger.log(level, record.message, extra=record.extra())


def warn(record: Record) -> None:
    """Issue a Python warning pointing at the user's line (not at Django's or the guard's)."""
    loc = record.location
    if loc is None:
        warnings.warn(record.message, AsyncORMGuardWarning, stacklevel=2)
        return
    module = loc.file.rsplit("/", 1)[-1].removesuffix(".py")
    warnings.warn_explicit(record.message, AsyncORMGuardWarning, loc.file, loc.line, module=module)

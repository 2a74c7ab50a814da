"""Sinks for records: the ``runtime_guard`` logger (structured ``extra``) and Python warnings."""

from __future__ import annotations

import logging
import sys
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
    """Issue a Python warning pointing at the user's line (not at Django's or the guard's).

    Without a user frame, at the caller's line. Always without a ``__warningregistry__``:
    the message names the request, and ``warnings.warn`` would keep one registry entry per
    distinct message in the calling module, growing with every request served.
    """
    loc = record.location
    if loc is None:
        caller = sys._getframe(1)
        filename, line = caller.f_code.co_filename, caller.f_lineno
        module = caller.f_globals.get("__name__", "")
    else:
        filename, line = loc.file, loc.line
        module = loc.file.rsplit("/", 1)[-1].removesuffix(".py")
    warnings.warn_explicit(record.message, AsyncORMGuardWarning, filename, line, module=module)

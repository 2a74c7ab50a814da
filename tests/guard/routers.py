"""A database router driven by a context variable: the same views on SQLite or PostgreSQL."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

alias: ContextVar[str | None] = ContextVar("guard_test_db_alias", default=None)


class ContextAliasRouter:
    """Route every read and write to ``alias`` (no opinion when it is unset)."""

    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        return alias.get()

    db_for_write = db_for_read


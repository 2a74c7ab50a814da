"""N+1 detection: normalise SQL to a shape, count shapes per request, suggest the fix."""

from __future__ import annotations

import re

from asyncorm_lint.django_api import PREFETCH_FUNCTIONS
from runtime_guard.operations import Operation

_SPACES = re.compile(r"\s+")
_PLACEHOLDER_LIST = re.compile(r"\(\s*%s(?:\s*,\s*%s)+\s*\)")
_VALUE_GROUPS = re.compile(r"(\([^()]*\))(?:\s*,\s*\1)+")
_NUMBER = re.compile(r"(?<![\w\"'])-?\d+(?:\.\d+)?(?![\w\"'])")
# Transaction control repeats by design (savepoints around every atomic block).
_IGNORED = ("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT", "SET ", "PRAGMA")

_cache: dict[str, str | None] = {}
_CACHE_MAX = 2048

_AWAIT_PREFETCH = f"await {PREFETCH_FUNCTIONS[0].replacement}(objs, ...)"


def shape(sql: str) -> str | None:
    """The query's shape (placeholder lists collapsed), or None for transaction control."""
    try:
        return _cache[sql]
    except KeyError:
        pass
    text = _SPACES.sub(" ", sql).strip()
    if text.upper().startswith(_IGNORED):
        result = None
    else:
        text = _PLACEHOLDER_LIST.sub("(%s, ...)", text)
        text = _VALUE_GROUPS.sub(r"\1, ...", text)
        result = _NUMBER.sub("?", text)
    if len(_cache) >= _CACHE_MAX:
        _cache.clear()
    _cache[sql] = result
    return result


def suggestion(operation: Operation | None) -> str:
    """The fix for a repeated query, as precise as the operation that ran it allows."""
    if operation is not None and operation.batch_fix:
        return f"{operation.batch_fix}, or {_AWAIT_PREFETCH}"
    return f"select_related(...)/prefetch_related(...) on the outer query, or {_AWAIT_PREFETCH}"

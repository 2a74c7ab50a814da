"""Run Django's own synchronous read code as a plan, intercepting SQL at the compiler.

Django's ORM reaches the database through ``SQLCompiler.execute_sql()``.
The first capture or replay puts :func:`execute_sql` on ``SQLCompiler``
(``uninstall()`` takes it off): outside the two modes below it is Django's
method, so the hook is inert for all other code. Both modes raise ``BaseException``
subclasses so that no ``except Exception`` in Django code can swallow them.

*Capture* (:func:`run_until_sql`): for methods whose SQL is their last step
(``count()``, ``aggregate()``, ``exists()``, ``contains()``), stop at the
first ``execute_sql()`` and hand the plan the compiler, already built by
Django's code (validation, result-cache checks, ``get_aggregation()``).

*Replay* (:func:`replay`): for code that runs queries in the middle (the
prefetchers' ``get_prefetch_querysets()``, ``in_bulk()``, content type
lookups), run it; at the first query not yet fetched, stop, fetch that query's
rows through a step, and run the code again from the start with the rows
recorded so far served from a tape. The code is Django's, unchanged; a replay
that issues different SQL than recorded is refused (``Unsupported``).
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db.models.sql.compiler import SQLCompiler
from django.db.models.sql.constants import GET_ITERATOR_CHUNK_SIZE, MULTI, SINGLE

from ..steps import Execute, Fetch, Plan
from .errors import Unsupported

django_execute_sql = SQLCompiler.execute_sql


class SQLRequested(BaseException):
    """Capture mode: the compiler Django was about to execute."""

    def __init__(self, compiler: Any, result_type: Any) -> None:
        super().__init__(result_type)
        self.compiler = compiler
        self.result_type = result_type


class RowsNeeded(BaseException):
    """Replay mode: this query has not been fetched yet."""

    def __init__(self, tape: _Tape, using: str, sql: str, params: Any, result_type: Any) -> None:
        super().__init__(sql)
        self.tape = tape
        self.using = using
        self.sql = sql
        self.params = params
        self.result_type = result_type


class _Capture:
    def execute_sql(self, compiler: Any, result_type: Any) -> Any:
        raise SQLRequested(compiler, result_type)


class _Tape:
    """Rows fetched so far, in the order the replayed code asks for them."""

    def __init__(self) -> None:
        self.entries: list[tuple[tuple[Any, ...], Any]] = []
        self.position = 0

    def execute_sql(self, compiler: Any, result_type: Any) -> Any:
        if result_type not in (MULTI, SINGLE):
            raise Unsupported(f"Django code ran a {result_type!r} statement during a read")
        try:
            sql, params = compiler.as_sql()
            if not sql:
                raise EmptyResultSet
        except EmptyResultSet:
            return iter([]) if result_type == MULTI else None
        key = (compiler.using, sql, params, result_type)
        if self.position == len(self.entries):
            raise RowsNeeded(self, compiler.using, sql, params, result_type)
        recorded_key, rows = self.entries[self.position]
        if recorded_key != key:
            raise Unsupported("Django code ran different SQL when replayed")
        self.position += 1
        if result_type == SINGLE:
            return tuple(rows[0][0 : compiler.col_count]) if rows else None
        if compiler.has_extra_select:
            count = compiler.col_count
            rows = [row[:count] for row in rows]
        return [rows] if rows else []


_interceptor: ContextVar[_Capture | _Tape | None] = ContextVar(
    "asyncorm_native_interceptor", default=None
)


def execute_sql(
    self: Any,
    result_type: Any = MULTI,
    chunked_fetch: bool = False,
    chunk_size: int = GET_ITERATOR_CHUNK_SIZE,
) -> Any:
    """``SQLCompiler.execute_sql`` as installed: Django's, unless a plan intercepts it."""
    interceptor = _interceptor.get()
    if interceptor is None:
        return django_execute_sql(self, result_type, chunked_fetch, chunk_size)
    return interceptor.execute_sql(self, result_type)


def ensure_hook() -> None:
    """Put :func:`execute_sql` on ``SQLCompiler`` (idempotent)."""
    if SQLCompiler.execute_sql is not execute_sql:
        SQLCompiler.execute_sql = execute_sql


def remove_hook() -> None:
    """Give ``SQLCompiler`` Django's ``execute_sql`` back."""
    SQLCompiler.execute_sql = django_execute_sql


def run_until_sql(
    func: Callable[..., Any], *args: Any, **kwargs: Any
) -> tuple[Any, SQLRequested | None]:
    """Call ``func``; return ``(value, None)`` if it needed no SQL, else ``(None, request)``."""
    ensure_hook()
    token = _interceptor.set(_Capture())
    try:
        return func(*args, **kwargs), None
    except SQLRequested as request:
        return None, request
    finally:
        _interceptor.reset(token)


def replay(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Plan[Any]:
    """``func(*args, **kwargs)`` with every query it runs fetched natively."""
    ensure_hook()
    tape = _Tape()
    while True:
        tape.position = 0
        token = _interceptor.set(tape)
        try:
            return func(*args, **kwargs)
        except RowsNeeded as exc:
            if exc.tape is not tape:
                raise
            need = exc
        finally:
            _interceptor.reset(token)
        fetch = Fetch.ONE if need.result_type == SINGLE else Fetch.ALL
        rows = yield Execute(need.sql, need.params, fetch, using=need.using)
        if fetch is Fetch.ONE:
            rows = [rows] if rows is not None else []
        tape.entries.append(((need.using, need.sql, need.params, need.result_type), rows))

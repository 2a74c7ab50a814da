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
``replay(..., writes=True)`` also records UPDATE/DELETE/INSERT statements (for
Django code whose only side effects are its statements: ``QuerySet.update()``,
``DeleteQuery.delete_batch()``...); a read replay refuses them.

``SQLInsertCompiler.execute_sql()`` is hooked too: captured, it hands over the
insert compiler and its ``returning_fields`` (:func:`.dml.insert`
runs it).
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db.models.sql.compiler import SQLCompiler, SQLInsertCompiler
from django.db.models.sql.constants import (
    GET_ITERATOR_CHUNK_SIZE,
    MULTI,
    NO_RESULTS,
    ROW_COUNT,
    SINGLE,
)

from ..reporting import statements
from ..steps import Execute, Fetch, Plan
from .errors import Unsupported

django_execute_sql = SQLCompiler.execute_sql
django_execute_insert_sql = SQLInsertCompiler.execute_sql


class Insert:
    """The result type of a captured ``SQLInsertCompiler.execute_sql(returning_fields)``."""

    __slots__ = ("returning_fields",)

    def __init__(self, returning_fields: Any) -> None:
        self.returning_fields = returning_fields


class SQLRequested(BaseException):
    """Capture mode: the compiler Django was about to execute."""

    def __init__(self, compiler: Any, result_type: Any) -> None:
        super().__init__(result_type)
        self.compiler = compiler
        self.result_type = result_type


class RowsNeeded(BaseException):
    """Replay mode: this statement has not been run yet; ``fetch`` is the plan that runs it."""

    def __init__(self, tape: _Tape, key: tuple[Any, ...], fetch: Callable[[], Plan[Any]]) -> None:
        super().__init__(key[1])
        self.tape = tape
        self.key = key
        self.fetch = fetch


class _Capture:
    def execute_sql(self, compiler: Any, result_type: Any) -> Any:
        raise SQLRequested(compiler, result_type)

    def execute_insert(self, compiler: Any, returning_fields: Any) -> Any:
        raise SQLRequested(compiler, Insert(returning_fields))


_WRITE_FETCH = {ROW_COUNT: Fetch.ROWCOUNT, NO_RESULTS: Fetch.NONE}


class _Tape:
    """Results fetched so far, in the order the replayed code asks for them."""

    def __init__(self, writes: bool = False) -> None:
        self.entries: list[tuple[tuple[Any, ...], Any]] = []
        self.position = 0
        self.writes = writes

    def _served(self, key: tuple[Any, ...], fetch: Callable[[], Plan[Any]]) -> Any:
        if self.position == len(self.entries):
            raise RowsNeeded(self, key, fetch)
        recorded_key, result = self.entries[self.position]
        if recorded_key != key:
            raise Unsupported("Django code ran different SQL when replayed")
        self.position += 1
        return result

    def execute_sql(self, compiler: Any, result_type: Any) -> Any:
        result_type = result_type or NO_RESULTS
        reading = result_type in (MULTI, SINGLE)
        if not reading and not (self.writes and result_type in _WRITE_FETCH):
            raise Unsupported(f"Django code ran a {result_type!r} statement during a read")
        try:
            sql, params = compiler.as_sql()
            if not sql:
                raise EmptyResultSet
        except EmptyResultSet:
            return iter([]) if result_type == MULTI else None
        using = compiler.using
        key = (using, sql, params, result_type)
        if not reading:
            fetch_mode = _WRITE_FETCH[result_type]
            return self._served(key, lambda: _run(Execute(sql, params, fetch_mode, using=using)))
        fetch = Fetch.ONE if result_type == SINGLE else Fetch.ALL
        rows = self._served(key, lambda: _fetch_rows(Execute(sql, params, fetch, using=using)))
        if result_type == SINGLE:
            return tuple(rows[0][0 : compiler.col_count]) if rows else None
        if compiler.has_extra_select:
            count = compiler.col_count
            rows = [row[:count] for row in rows]
        return [rows] if rows else []

    def execute_insert(self, compiler: Any, returning_fields: Any) -> Any:
        if not self.writes:
            raise Unsupported("Django code ran an INSERT during a read")
        from .dml import insert

        compiler.returning_fields = returning_fields
        statements = tuple(compiler.as_sql())
        key = (compiler.using, statements, None, "insert")
        return self._served(key, lambda: insert(compiler, returning_fields, statements))


def _run(step: Execute) -> Plan[Any]:
    return (yield step)


def _fetch_rows(step: Execute) -> Plan[Any]:
    rows = yield step
    if step.fetch is Fetch.ONE:
        rows = [rows] if rows is not None else []
    return rows


class _Inline(_Tape):
    """Replay mode on the sync driver: each statement is performed when Django asks for it."""

    def __init__(self, writes: bool, perform: Callable[[Plan[Any]], Any]) -> None:
        super().__init__(writes)
        self._perform = perform

    def _served(self, key: tuple[Any, ...], fetch: Callable[[], Plan[Any]]) -> Any:
        token = _interceptor.set(None)
        try:
            return self._perform(fetch())
        finally:
            _interceptor.reset(token)


_interceptor: ContextVar[_Capture | _Tape | None] = ContextVar(
    "asyncorm_native_interceptor", default=None
)
#: Set by the sync driver while it runs a plan: performs a plan's steps on the spot.
inline: ContextVar[Callable[[Plan[Any]], Any] | None] = ContextVar(
    "asyncorm_native_inline", default=None
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
        statements["stock"] += 1
        return django_execute_sql(self, result_type, chunked_fetch, chunk_size)
    return interceptor.execute_sql(self, result_type)


def execute_insert_sql(self: Any, returning_fields: Any = None) -> Any:
    """``SQLInsertCompiler.execute_sql`` as installed: Django's, unless a plan intercepts it."""
    interceptor = _interceptor.get()
    if interceptor is None:
        statements["stock"] += 1
        return django_execute_insert_sql(self, returning_fields)
    return interceptor.execute_insert(self, returning_fields)


def ensure_hook() -> None:
    """Put :func:`execute_sql` on ``SQLCompiler``, :func:`execute_insert_sql` on inserts."""
    if SQLCompiler.execute_sql is not execute_sql:
        SQLCompiler.execute_sql = execute_sql
    if SQLInsertCompiler.execute_sql is not execute_insert_sql:
        SQLInsertCompiler.execute_sql = execute_insert_sql


def remove_hook() -> None:
    """Give the compilers Django's ``execute_sql`` back."""
    SQLCompiler.execute_sql = django_execute_sql
    SQLInsertCompiler.execute_sql = django_execute_insert_sql


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


def replay(func: Callable[..., Any], *args: Any, writes: bool = False, **kwargs: Any) -> Plan[Any]:
    """``func(*args, **kwargs)`` with every statement it runs performed natively.

    ``writes=True`` admits data-changing statements; ``func`` must then have no
    side effects but its statements, since it runs again after each of them.
    """
    ensure_hook()
    perform = inline.get()
    if perform is not None:  # the sync driver: Django's code runs once
        token = _interceptor.set(_Inline(writes, perform))
        try:
            return func(*args, **kwargs)
        finally:
            _interceptor.reset(token)
    tape = _Tape(writes)
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
        result = yield from need.fetch()
        tape.entries.append((need.key, result))

"""Compile a query with Django's compiler, fetch its rows, build results with Django's iterables.

Django's iterable classes (``ModelIterable``, ``ValuesIterable``...) call
``query.get_compiler()`` and then ``compiler.execute_sql()``. The plan compiles
first, fetches the rows through a step, and then runs the very same iterable
with that compiler answering ``execute_sql()`` from the fetched rows: values
go through the compiler's converters, instances through ``Model.from_db`` and
``RelatedPopulator``, annotations and known related objects as Django does.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from itertools import islice
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models.query import (
    FlatValuesListIterable,
    ModelIterable,
    NamedValuesListIterable,
    ValuesIterable,
    ValuesListIterable,
)

from ..steps import Close, Emit, Execute, Fetch, FetchMany, Params, Plan, Row
from . import statements
from .errors import Unsupported

#: Iterables known to yield exactly one item per row (what streaming relies on).
KNOWN_ITERABLES = frozenset(
    {
        ModelIterable,
        ValuesIterable,
        ValuesListIterable,
        NamedValuesListIterable,
        FlatValuesListIterable,
    }
)


def compile_select(compiler: Any) -> tuple[str, Params] | None:
    """``compiler.as_sql()``, or None where Django's ``execute_sql()`` sees an empty result."""
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return None
    if not sql:
        return None
    return sql, params


def trim(compiler: Any, rows: list[Row]) -> list[Row]:
    """Drop extra-select columns as Django's ``cursor_iter`` does."""
    if compiler.has_extra_select:
        count = compiler.col_count
        return [row[:count] for row in rows]
    return rows


def fetch_all(compiler: Any) -> Plan[list[Row]]:
    """Rows of ``compiler.execute_sql(MULTI)`` without chunked fetch."""
    return (yield from fetch_compiled(compiler, compile_select(compiler)))


def fetch_compiled(compiler: Any, compiled: tuple[str, Params] | None) -> Plan[list[Row]]:
    """Rows of ``compiler.execute_sql(MULTI)``, its SQL already compiled (None: empty result)."""
    if compiled is None:
        return []
    rows = yield Execute(compiled[0], compiled[1], Fetch.ALL, using=compiler.using)
    return trim(compiler, rows)


def fetch_one(compiler: Any) -> Plan[Row | None]:
    """Row of ``compiler.execute_sql(SINGLE)``."""
    compiled = compile_select(compiler)
    if compiled is None:
        return None
    row = yield Execute(compiled[0], compiled[1], Fetch.ONE, using=compiler.using)
    if row:
        return tuple(row[0 : compiler.col_count])
    return row


@contextmanager
def answering(query: Any, compiler: Any, results: Iterable[list[Row]]) -> Iterator[None]:
    """Make Django code reading ``query`` use ``compiler``, its ``execute_sql()`` give ``results``.

    Only for synchronous stretches: the overrides are instance attributes that
    are removed before the plan yields again.
    """
    query.get_compiler = lambda *args, **kwargs: compiler
    compiler.execute_sql = lambda *args, **kwargs: results
    try:
        yield
    finally:
        del query.get_compiler
        del compiler.execute_sql


def check_iterable(queryset: Any) -> None:
    """Refuse iterables whose row-to-item behaviour is unknown."""
    if queryset._iterable_class not in KNOWN_ITERABLES:
        raise Unsupported(f"custom iterable class {queryset._iterable_class.__qualname__}")


def build(queryset: Any) -> Plan[list[Any]]:
    """``list(queryset._iterable_class(queryset))``: the result list, natively fetched.

    A queryset of a shape seen before reuses that shape's statement (``statements``).
    """
    check_iterable(queryset)
    alias = queryset.db
    shape = statements.shape_key(queryset, statements.ROWS, alias)
    outcome = "uncacheable"
    if shape is not None:
        statement = statements.find(shape[0])
        if statement:
            params = statement.params(shape[1])
            if params is not None:
                statements.counts["rows", "hit"] += 1
                compiler = statement.compiler
                statement.mirror_aliases(queryset.query)
                rows = yield Execute(statement.sql, params, Fetch.ALL, using=compiler.using)
                return results_of(queryset, compiler, trim(compiler, rows))
            outcome = "refused"
        if statement is not False:
            shape = None
    compiler = queryset.query.get_compiler(using=alias)
    compiled = compile_select(compiler)
    if shape is not None:
        outcome = statements.record(shape[0], shape[1], {}, queryset.query, compiler, compiled)
    statements.counts["rows", outcome] += 1
    rows = yield from fetch_compiled(compiler, compiled)
    return results_of(queryset, compiler, rows)


def results_of(queryset: Any, compiler: Any, rows: list[Row]) -> list[Any]:
    """``list(queryset._iterable_class(queryset))`` with ``compiler`` answering from ``rows``."""
    # answering(), inlined: this is the hot path of every cached get()
    query = queryset.query
    results = [rows] if rows else []
    query.get_compiler = lambda *args, **kwargs: compiler
    compiler.execute_sql = lambda *args, **kwargs: results
    try:
        return list(queryset._iterable_class(queryset))
    finally:
        del query.get_compiler
        del compiler.execute_sql


def evaluate(queryset: Any) -> Plan[list[Any]]:
    """Mirrors ``QuerySet._fetch_all()``: fill the result cache, then prefetch."""
    from .prefetch import prefetch_related_objects

    if queryset._result_cache is None:
        queryset._result_cache = yield from build(queryset)
    if queryset._prefetch_related_lookups and not queryset._prefetch_done:
        yield from prefetch_related_objects(
            queryset._result_cache, *queryset._prefetch_related_lookups
        )
        queryset._prefetch_done = True
    return queryset._result_cache


class _ChunkFeed:
    """The ``execute_sql()`` result of a streamed query: chunks arrive as the plan fetches them."""

    def __init__(self) -> None:
        self._chunks: deque[list[Row]] = deque()
        self._finished = False

    def push(self, rows: list[Row]) -> None:
        self._chunks.append(rows)

    def finish(self) -> None:
        self._finished = True

    def __iter__(self) -> _ChunkFeed:
        return self

    def __next__(self) -> list[Row]:
        if self._chunks:
            return self._chunks.popleft()
        if self._finished:
            raise StopIteration
        raise RuntimeError("asyncorm_native: an iterable read past the rows fetched so far")


def stream(
    queryset: Any, chunked_fetch: bool, chunk_size: int, prefetch_lookups: tuple[Any, ...] = ()
) -> Plan[None]:
    """Mirrors ``QuerySet.aiterator()``: the iterable's items, chunk by chunk.

    With chunked fetch (and a backend that supports it) the rows come from a
    cursor kept open (server-side on PostgreSQL) as Django's ``iterator()``
    does; otherwise all rows are fetched first, as Django does then. With
    ``prefetch_lookups`` each chunk of ``chunk_size`` items is prefetched
    before it is handed out, as Django's ``aiterator()`` batches them.
    """
    from .prefetch import prefetch_related_objects

    check_iterable(queryset)
    query = queryset.query
    compiler = query.get_compiler(using=queryset.db)
    compiled = compile_select(compiler)
    iterable = queryset._iterable_class(
        queryset, chunked_fetch=chunked_fetch, chunk_size=chunk_size
    )
    feed = _ChunkFeed()
    with answering(query, compiler, feed):
        items = iter(iterable)

    def emit(batch: list[Any]) -> Plan[None]:
        if prefetch_lookups and batch:
            yield from prefetch_related_objects(batch, *prefetch_lookups)
        yield Emit(batch)

    if compiled is None:
        feed.finish()
        with answering(query, compiler, feed):
            leftover = list(items)
        if leftover:
            yield from emit(leftover)
        return None
    sql, params = compiled
    using = compiler.using
    started = False

    def take(rows: list[Row]) -> list[Any]:
        nonlocal started
        feed.push(rows)
        if started:
            return list(islice(items, len(rows)))
        started = True
        with answering(query, compiler, feed):
            return list(islice(items, len(rows)))

    if chunked_fetch and connections[using].features.can_use_chunked_reads:
        yield Execute(sql, params, Fetch.STREAM, server_side=True, using=using)
        while True:
            rows = yield FetchMany(chunk_size)
            if not rows:
                break
            yield from emit(take(trim(compiler, rows)))
        yield Close()
    else:
        rows = yield Execute(sql, params, Fetch.ALL, using=using)
        rows = trim(compiler, rows)
        for start in range(0, len(rows), chunk_size):
            yield from emit(take(rows[start : start + chunk_size]))
    feed.finish()
    if started:
        leftover = list(items)
    else:
        with answering(query, compiler, feed):
            leftover = list(items)
    if leftover:  # a well-behaved iterable yields one item per row
        raise RuntimeError("asyncorm_native: iterable yielded more items than rows")
    return None

"""DML (INSERT, UPDATE, DELETE) statements, run the way Django's compilers run them.

``insert()`` mirrors ``SQLInsertCompiler.execute_sql()``: the statements come
from the compiler's ``as_sql()``, the returned columns go through the
compiler's converters. :func:`run_statement` runs Django code whose last act
is one statement (``_insert()``, ``_update()``, ``update()``): captured at the
compiler, executed natively, without running Django's code twice. Code that
runs several statements (related updates of inherited fields, batches) is
replayed instead (``intercept.replay(..., writes=True)``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db.models import AutoField
from django.db.models.sql.compiler import SQLDeleteCompiler, SQLUpdateCompiler
from django.db.models.sql.constants import NO_RESULTS, ROW_COUNT

from ..steps import Execute, Fetch, Params, Plan
from .intercept import Insert, SQLRequested, replay, run_until_sql
from .rows import compile_select


def insert(
    compiler: Any,
    returning_fields: Any,
    statements: Sequence[tuple[str, Params]] | None = None,
) -> Plan[list[Any]]:
    """Mirrors ``SQLInsertCompiler.execute_sql(returning_fields)``."""
    features = compiler.connection.features
    objs = compiler.query.objs
    assert not (
        returning_fields and len(objs) != 1 and not features.can_return_rows_from_bulk_insert
    )
    opts = compiler.query.get_meta()
    compiler.returning_fields = returning_fields
    if statements is None:
        statements = compiler.as_sql()
    using = compiler.using
    *head, (sql, params) = statements
    for head_sql, head_params in head:
        yield Execute(head_sql, head_params, Fetch.NONE, using=using)
    if not returning_fields:
        yield Execute(sql, params, Fetch.NONE, using=using)
        return []
    if features.can_return_rows_from_bulk_insert and len(objs) > 1:
        rows = yield Execute(sql, params, Fetch.ALL, using=using, write=True)
        cols = [field.get_col(opts.db_table) for field in returning_fields]
    elif features.can_return_columns_from_insert:
        assert len(objs) == 1
        rows = [(yield Execute(sql, params, Fetch.ONE, using=using, write=True))]
        cols = [field.get_col(opts.db_table) for field in returning_fields]
    elif isinstance(returning_field := returning_fields[0], AutoField):
        cols = [returning_field.get_col(opts.db_table)]
        rows = [((yield Execute(sql, params, Fetch.LASTROWID, using=using)),)]
    else:
        yield Execute(sql, params, Fetch.NONE, using=using)
        return []
    converters = compiler.get_converters(cols)
    if converters:
        rows = compiler.apply_converters(rows, converters)
    return list(rows)


def _one_statement(compiler: Any) -> tuple[str, Params] | bool | None:
    """The compiled UPDATE/DELETE, None for an empty result, False if compiling needs a query."""
    compiled, request = run_until_sql(compile_select, compiler)
    if request is not None:  # SQLUpdateCompiler.pre_sql_setup() pre-selects the rows
        return False
    return compiled


def run_statement(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Plan[Any]:
    """``func(*args, **kwargs)`` whose last act is one statement, with the statement run natively.

    Returns what that statement gives Django (rows of an insert, a row count).
    """
    value, request = run_until_sql(func, *args, **kwargs)
    if request is None:
        return value
    return (yield from perform(request, func, *args, **kwargs))


def perform(
    request: SQLRequested, func: Callable[..., Any], *args: Any, **kwargs: Any
) -> Plan[Any]:
    """Run the statement ``func`` was stopped at (``request``).

    When it is not one plain statement (an update of inherited fields, or one
    that pre-selects its rows), ``func`` is replayed with its statements run
    natively instead.
    """
    compiler = request.compiler
    result_type = request.result_type
    if isinstance(result_type, Insert):
        return (yield from insert(compiler, result_type.returning_fields))
    if result_type in (ROW_COUNT, NO_RESULTS) and (
        isinstance(compiler, SQLDeleteCompiler)
        or (isinstance(compiler, SQLUpdateCompiler) and not compiler.query.related_updates)
    ):
        compiled = _one_statement(compiler)
        if compiled is not False:
            if compiled is None:  # EmptyResultSet: Django's execute_sql() returns None
                return 0 if isinstance(compiler, SQLUpdateCompiler) else None
            sql, params = compiled
            fetch = Fetch.ROWCOUNT if result_type == ROW_COUNT else Fetch.NONE
            return (yield Execute(sql, params, fetch, using=compiler.using))
    return (yield from replay(func, *args, writes=True, **kwargs))

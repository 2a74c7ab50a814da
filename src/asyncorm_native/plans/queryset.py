"""Plans for the QuerySet read methods: ``get``, ``first``, ``count``, ``aggregate``...

The hot paths (``get``, ``first``, ``last``...) follow Django 5.2's
orchestration around I/O (each names the method it mirrors), compiling once.
The others call Django's method itself through :mod:`.intercept`: captured at
its final query (``count``, ``aggregate``, ``exists``, ``contains``) or
replayed (``in_bulk``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db import NotSupportedError, connections
from django.db.models.query import MAX_GET_RESULTS
from django.db.models.sql.constants import SINGLE

from ..steps import Execute, Fetch, Plan
from . import statements
from .errors import Unsupported
from .intercept import SQLRequested, replay, run_until_sql
from .rows import (
    check_iterable,
    compile_select,
    evaluate,
    fetch_compiled,
    fetch_one,
    results_of,
    trim,
)


def _single(request: SQLRequested) -> Any:
    if request.result_type != SINGLE:
        raise Unsupported(f"captured method needed a {request.result_type!r} result")
    return request.compiler


def get(queryset: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Plan[Any]:
    """Mirrors ``QuerySet.get()``; later calls of a cached shape reuse its statement."""
    self = queryset
    shape = None
    if kwargs and not args:
        names = tuple(sorted(kwargs))
        shape = statements.shape_key(self, ("get", names), self.db)
    if shape is not None:
        statement = statements.find(shape[0])
        if statement:
            params = statement.params(shape[1], [kwargs[name] for name in names])
            if params is not None:
                statements.counts["get", "hit"] += 1
                return (yield from _get_cached(self, statement, params))
            statements.counts["get", "refused"] += 1
        elif statement is None:
            statements.counts["get", "uncacheable"] += 1
        if statement is not False:
            shape = None  # a known shape: nothing to record
    else:
        statements.counts["get", "uncacheable"] += 1
    if self.query.combinator and (args or kwargs):
        raise NotSupportedError(
            f"Calling QuerySet.get(...) with filters after {self.query.combinator}() is not "
            "supported."
        )
    clone = self._chain() if self.query.combinator else self.filter(*args, **kwargs)
    if self.query.can_filter() and not self.query.distinct_fields:
        clone = clone.order_by()
    limit = None
    if (
        not clone.query.select_for_update
        or connections[clone.db].features.supports_select_for_update_with_limit
    ):
        limit = MAX_GET_RESULTS
        clone.query.set_limits(high=limit)
    if shape is not None and limit is not None:
        # evaluate(clone), compiling here to keep the statement for the shape's next calls
        check_iterable(clone)
        compiler = clone.query.get_compiler(using=clone.db)
        compiled = compile_select(compiler)
        outcome = statements.record(shape[0], shape[1], kwargs, clone.query, compiler, compiled)
        statements.counts["get", outcome] += 1
        rows = yield from fetch_compiled(compiler, compiled)
        clone._result_cache = results_of(clone, compiler, rows)
    results = yield from evaluate(clone)
    return _got(self, results, limit)


def _get_cached(self: Any, statement: statements.Statement, params: list[Any]) -> Plan[Any]:
    """``get()`` with the statement of a cached shape: the same SQL with these parameters."""
    clone = self._chain()
    check_iterable(clone)
    compiler = statement.compiler
    rows = yield Execute(statement.sql, params, Fetch.ALL, using=compiler.using)
    if compiler.has_extra_select:
        rows = trim(compiler, rows)
    results = clone._result_cache = results_of(clone, compiler, rows)
    if clone._prefetch_related_lookups:
        results = yield from evaluate(clone)
    return _got(self, results, MAX_GET_RESULTS)


def _got(self: Any, results: list[Any], limit: int | None) -> Any:
    """The end of ``QuerySet.get()``: the one result, or Django's exception."""
    num = len(results)
    if num == 1:
        return results[0]
    if not num:
        raise self.model.DoesNotExist(
            f"{self.model._meta.object_name} matching query does not exist."
        )
    found = num if not limit or num < limit else f"more than {limit - 1}"
    raise self.model.MultipleObjectsReturned(
        f"get() returned more than one {self.model._meta.object_name} -- it returned {found}!"
    )


def _first_of(queryset: Any) -> Plan[Any]:
    """``for obj in queryset[:1]: return obj``."""
    sliced = queryset[:1]
    if isinstance(sliced, list):  # the queryset's result cache was already filled
        return sliced[0] if sliced else None
    results = yield from evaluate(sliced)
    return results[0] if results else None


def first(queryset: Any) -> Plan[Any]:
    """Mirrors ``QuerySet.first()``."""
    if queryset.ordered:
        target = queryset
    else:
        queryset._check_ordering_first_last_queryset_aggregation(method="first")
        target = queryset.order_by("pk")
    return (yield from _first_of(target))


def last(queryset: Any) -> Plan[Any]:
    """Mirrors ``QuerySet.last()``."""
    if queryset.ordered:
        target = queryset.reverse()
    else:
        queryset._check_ordering_first_last_queryset_aggregation(method="last")
        target = queryset.order_by("-pk")
    return (yield from _first_of(target))


def _earliest(queryset: Any, fields: tuple[str, ...]) -> Plan[Any]:
    """Mirrors ``QuerySet._earliest()``."""
    if fields:
        order_by = fields
    else:
        order_by = queryset.model._meta.get_latest_by
        if order_by and not isinstance(order_by, (tuple, list)):
            order_by = (order_by,)
    if order_by is None:
        raise ValueError(
            "earliest() and latest() require either fields as positional "
            "arguments or 'get_latest_by' in the model's Meta."
        )
    obj = queryset._chain()
    obj.query.set_limits(high=1)
    obj.query.clear_ordering(force=True)
    obj.query.add_ordering(*order_by)
    return (yield from get(obj, (), {}))


def earliest(queryset: Any, fields: tuple[str, ...]) -> Plan[Any]:
    """Mirrors ``QuerySet.earliest()``."""
    if queryset.query.is_sliced:
        raise TypeError("Cannot change a query once a slice has been taken.")
    return (yield from _earliest(queryset, fields))


def latest(queryset: Any, fields: tuple[str, ...]) -> Plan[Any]:
    """Mirrors ``QuerySet.latest()``."""
    if queryset.query.is_sliced:
        raise TypeError("Cannot change a query once a slice has been taken.")
    return (yield from _earliest(queryset.reverse(), fields))


def in_bulk(queryset: Any, id_list: Any, field_name: str) -> Plan[dict[Any, Any]]:
    """``QuerySet.in_bulk()``: Django's method, its queries (batched on SQLite) fetched natively."""
    if isinstance(id_list, Iterator):  # the replay runs the method again: read it once
        id_list = tuple(id_list)
    return (yield from replay(queryset.in_bulk, id_list, field_name=field_name))


def finish_aggregation(compiler: Any) -> Plan[dict[str, Any]]:
    """Mirrors the tail of ``Query.get_aggregation()`` after its ``execute_sql(SINGLE)``."""
    outer_query = compiler.query
    row = yield from fetch_one(compiler)
    if row is None:
        result = [
            expression.empty_result_set_value
            for expression in outer_query.annotation_select.values()
        ]
    else:
        cols = outer_query.annotation_select.values()
        converters = compiler.get_converters(cols)
        rows = compiler.apply_converters((row,), converters)
        if compiler.has_composite_fields(cols):
            rows = compiler.composite_fields_to_tuples(rows, cols)
        result = next(rows)
    return dict(zip(outer_query.annotation_select, result, strict=False))


def count(queryset: Any) -> Plan[int]:
    """``QuerySet.count()``: Django's method up to its SQL, then the aggregate natively."""
    value, request = run_until_sql(queryset.count)
    if request is None:
        return value
    result = yield from finish_aggregation(_single(request))
    return result["__count"]


def aggregate(queryset: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Plan[dict[str, Any]]:
    """``QuerySet.aggregate()``: Django's method up to its SQL, then natively."""
    value, request = run_until_sql(queryset.aggregate, *args, **kwargs)
    if request is None:
        return value
    return (yield from finish_aggregation(_single(request)))


def _has_results(request: SQLRequested) -> Plan[bool]:
    """Mirrors ``SQLCompiler.has_results()``."""
    return bool((yield from fetch_one(_single(request))))


def exists(queryset: Any) -> Plan[bool]:
    """``QuerySet.exists()``: Django's method up to its SQL, then natively."""
    value, request = run_until_sql(queryset.exists)
    if request is None:
        return value
    return (yield from _has_results(request))


def contains(queryset: Any, obj: Any) -> Plan[bool]:
    """``QuerySet.contains()``: Django's method up to its SQL, then natively."""
    value, request = run_until_sql(queryset.contains, obj)
    if request is None:
        return value
    return (yield from _has_results(request))

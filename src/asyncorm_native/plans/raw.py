"""Plan for iterating a ``RawQuerySet``: the SQL runs natively, Django builds the instances.

The fetched rows and column names are given to a fresh ``RawQuery`` as its
cursor, so Django's ``RawQuerySet.columns``, ``resolve_model_init_order()`` and
``RawModelIterable`` (converters, ``Model.from_db``, annotations) run unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from django.db import connections
from django.db.models.query import RawModelIterable, RawQuerySet

from ..steps import Execute, Fetch, Params, Plan, Row
from .prefetch import prefetch_related_objects


class FetchedCursor:
    """A closed-over result set that looks like the DB-API cursor ``RawQuery`` expects."""

    def __init__(self, rows: list[Row], names: Sequence[str] | None) -> None:
        self.rows = rows
        self.description = (
            None
            if names is None
            else [(name, None, None, None, None, None, None) for name in names]
        )

    def __iter__(self) -> Iterator[Row]:
        return iter(self.rows)

    def close(self) -> None:
        """Nothing to release: the rows are already fetched."""


def raw_params(query: Any) -> Params:
    """Mirrors the parameter adaptation of ``RawQuery._execute_query()``."""
    connection = connections[query.using]
    params_type = query.params_type
    adapter = connection.ops.adapt_unknown_value
    if params_type is tuple:
        return tuple(adapter(val) for val in query.params)
    if params_type is dict:
        return {key: adapter(val) for key, val in query.params.items()}
    if params_type is None:
        return None
    raise RuntimeError(f"Unexpected params type: {params_type}")


def evaluate_raw(raw_queryset: Any) -> Plan[list[Any]]:
    """Mirrors ``RawQuerySet._fetch_all()``."""
    self = raw_queryset
    if self._result_cache is None:
        query = self.query
        rows, names = yield Execute(
            query.sql, raw_params(query), Fetch.ALL, using=query.using, describe=True
        )
        fetched = query.clone(query.using)
        fetched.cursor = FetchedCursor(rows, names)
        fetched._execute_query = lambda: None  # the rows are in, do not run it again
        view = RawQuerySet(
            self.raw_query,
            model=self.model,
            query=fetched,
            params=self.params,
            translations=self.translations,
            using=self._db,
            hints=self._hints,
        )
        self._result_cache = list(RawModelIterable(view))
        # Stock evaluation leaves these cached on the queryset itself.
        self.__dict__.setdefault("columns", view.columns)
        self.__dict__.setdefault("model_fields", view.model_fields)
    if self._prefetch_related_lookups and not self._prefetch_done:
        yield from prefetch_related_objects(self._result_cache, *self._prefetch_related_lookups)
        self._prefetch_done = True
    return self._result_cache

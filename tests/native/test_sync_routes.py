"""``install(sync=True)``: Django's sync ORM methods run the plans on Django's own connection.

Django's own test modules are the wide judge (``test_django_suite.py``); these
tests pin down the routes themselves: what they swap, their signatures, that
they count natively, that they fall back where the a-methods do, and that
``uninstall()`` gives Django its methods back.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction
from django.db.models import Count, Model
from django.db.models import query as django_query
from django.db.models.query import QuerySet, RawQuerySet

import asyncorm_native
from asyncorm_native import reporting, sync_routes

from .zoo.models import Author, Book, Item, Label, Shop


@pytest.fixture
def routed(zoo: set[str]) -> Iterator[None]:
    asyncorm_native.install(sync=True)
    reporting.reset()
    try:
        yield
    finally:
        asyncorm_native.uninstall()


def shape(function: Any) -> list[tuple[object, ...]]:
    return [(p.name, p.kind, p.default) for p in inspect.signature(function).parameters.values()]


def test_install_sync_swaps_and_uninstall_restores() -> None:
    stock = {name: QuerySet.__dict__[name] for name in sync_routes._QUERYSET_ROUTES}
    stock_model = {name: Model.__dict__[name] for name in sync_routes._MODEL_ROUTES}
    stock_raw = RawQuerySet.__dict__["_fetch_all"]
    stock_prefetch = django_query.prefetch_related_objects
    asyncorm_native.install(sync=True)
    try:
        for name, original in stock.items():
            route = QuerySet.__dict__[name]
            assert route is not original
            assert route.__qualname__ == f"QuerySet.{name}"
            if name != "_iterator":  # Django's is a generator taking positional flags only
                assert shape(route) == shape(original), name
        for name, original in stock_model.items():
            assert shape(Model.__dict__[name]) == shape(original), name
        assert RawQuerySet.__dict__["_fetch_all"] is not stock_raw
        assert django_query.prefetch_related_objects is not stock_prefetch
        asyncorm_native.install()  # a plain install() takes the sync routes off again
        assert all(QuerySet.__dict__[name] is stock[name] for name in stock)
        assert asyncorm_native.is_installed()
    finally:
        asyncorm_native.uninstall()
    assert all(QuerySet.__dict__[name] is stock[name] for name in stock)
    assert all(Model.__dict__[name] is stock_model[name] for name in stock_model)
    assert RawQuerySet.__dict__["_fetch_all"] is stock_raw
    assert django_query.prefetch_related_objects is stock_prefetch


def test_related_manager_routes_have_djangos_signatures(zoo: set[str]) -> None:
    managers = {
        "fk": Shop.tickets.related_manager_cls,
        "m2m": Item.labels.related_manager_cls,
        "generic": Shop.notes.related_manager_cls,
    }
    names = ("add", "remove", "clear", "set", "create", "get_or_create", "update_or_create")
    stock = {
        (kind, name): shape(cls.__dict__[name])
        for kind, cls in managers.items()
        for name in names
        if name in cls.__dict__
    }
    asyncorm_native.install(sync=True)
    try:
        for (kind, name), expected in stock.items():
            route = managers[kind].__dict__[name]
            assert shape(route) == expected, (kind, name)
            assert route.alters_data
    finally:
        asyncorm_native.uninstall()
    for (kind, name), expected in stock.items():
        assert shape(managers[kind].__dict__[name]) == expected


@pytest.mark.parametrize("alias", ["default", "postgres"], ids=["sqlite", "postgres"])
def test_sync_reads_run_natively_with_djangos_results(
    alias: str, zoo: set[str], routed: None
) -> None:
    if alias not in zoo:
        pytest.skip("PostgreSQL is not configured")
    books = Book.objects.using(alias)

    def reads() -> tuple[Any, ...]:
        return (
            list(books.order_by("pk")),
            books.count(),
            books.filter(pages__gt=300).exists(),
            books.order_by("pk").first(),
            books.aggregate(n=Count("pk")),
            [a.books.all()[:] for a in Author.objects.using(alias).prefetch_related("books")],
            list(books.order_by("pk").iterator(chunk_size=2)),
            list(books.order_by("pk").values_list("title", flat=True)),
        )

    asyncorm_native.uninstall()
    expected = reads()
    asyncorm_native.install(sync=True)
    reporting.reset()
    got = reads()
    assert got == expected
    report = asyncorm_native.report()
    assert report.fallback == {}
    assert {"_fetch_all", "count", "exists", "first", "aggregate", "_iterator"} <= set(
        report.native
    )
    assert report.statements.get("stock", 0) == 0 and report.statements["native"] >= 8


@pytest.mark.parametrize("alias", ["default", "postgres"], ids=["sqlite", "postgres"])
def test_sync_writes_join_the_callers_transaction(
    alias: str, zoo: set[str], routed: None
) -> None:
    if alias not in zoo:
        pytest.skip("PostgreSQL is not configured")
    with pytest.raises(RuntimeError, match="roll back"), transaction.atomic(using=alias):
        label = Label.objects.using(alias).create(name="sync-route")
        shop = Shop.objects.using(alias).create(name="sync-route shop")
        item = shop.items.create(name="sync-route item")
        item.labels.add(label)
        assert item.labels.filter(name="sync-route").exists()
        label.name = "renamed"
        label.save()
        assert Label.objects.using(alias).get(pk=label.pk).name == "renamed"
        raise RuntimeError("roll back")
    assert not Label.objects.using(alias).filter(name__in=["sync-route", "renamed"]).exists()
    assert not Shop.objects.using(alias).filter(name="sync-route shop").exists()
    native = asyncorm_native.report().native
    assert native["create"] == 2 and native["Model.save"] == 1
    assert native["RelatedManager.create"] == 1
    assert native["ManyRelatedManager.add"] == 1
    assert asyncorm_native.report().statements.get("stock", 0) == 0


def test_sync_route_falls_back_where_the_a_method_does(zoo: set[str], routed: None) -> None:
    class Counting(QuerySet):
        def _prefetch_related_objects(self) -> None:  # what rows.evaluate would bypass
            super()._prefetch_related_objects()

    qs = Counting(model=Book, using="default").order_by("pk")
    assert len(list(qs)) == Book.objects.count()
    fallback = asyncorm_native.report().fallback
    ((kind, count),) = fallback["_fetch_all"].items()
    assert kind.endswith("Counting overrides _prefetch_related_objects()") and count == 1


def test_iterator_falls_back_when_cursor_iter_is_replaced(zoo: set[str], routed: None) -> None:
    from unittest import mock

    from django.db.models.sql import compiler

    with mock.patch.object(compiler, "cursor_iter", side_effect=compiler.cursor_iter) as spy:
        assert next(Book.objects.order_by("pk").iterator())
    assert spy.call_count == 1
    assert "_iterator" in asyncorm_native.report().fallback


def test_replayed_django_code_runs_once_on_the_sync_driver(zoo: set[str], routed: None) -> None:
    """Reverse-FK prefetching evaluates inside Django's get_prefetch_querysets(): on the sync
    driver the statement is performed on the spot, not by running Django's code again."""
    from unittest import mock

    from django.db.models.fields import related_descriptors

    calls = []
    manager_cls = Author.books.related_manager_cls
    original = manager_cls.get_prefetch_querysets

    def spy(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return original(self, *args, **kwargs)

    assert related_descriptors  # the factory module the manager class comes from
    with mock.patch.object(manager_cls, "get_prefetch_querysets", spy):
        authors = list(Author.objects.prefetch_related("books"))
    assert authors and len(calls) == 1
    assert asyncorm_native.report().statements.get("stock", 0) == 0

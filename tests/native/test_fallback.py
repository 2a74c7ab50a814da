"""Unsupported means Django's stock method: the right answer, counted, logged once per kind."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.db import connections, transaction
from django.db.models import Count, prefetch_related_objects
from django.db.models.query import ModelIterable
from django.test import override_settings

import asyncorm_native
from asyncorm_native import pools
from asyncorm_native.plans import Unsupported

from .compare import Raised, assert_same
from .zoo.models import Book, Gadget, Publisher


async def stock_and_native(call: Any) -> tuple[Any, Any, Any]:
    """Run ``call()`` through the stock methods, then natively; return both and the report."""

    async def outcome() -> Any:
        try:
            return await call()
        except Exception as exc:
            return Raised(exc)

    stock = await outcome()
    asyncorm_native.install()
    asyncorm_native.reset_report()
    try:
        native = await outcome()
        report = asyncorm_native.report()
    finally:
        asyncorm_native.uninstall()
        await asyncorm_native.close_pools()
    return stock, native, report


async def test_queryset_overriding_a_sync_method_falls_back(alias: str) -> None:
    stock, native, report = await stock_and_native(lambda: Gadget.objects.using(alias).acount())
    assert_same(stock, native)
    assert report.fallback == {"acount": {"LoudQuerySet overrides count()": 1}}
    # Methods whose sync twin is not overridden stay native.
    stock, native, report = await stock_and_native(
        lambda: Gadget.objects.using(alias).aget(name="gadget 1")
    )
    assert_same(stock, native)
    assert report.native == {"aget": 1} and report.fallback_total == 0


class CountingIterable(ModelIterable):
    def __iter__(self):
        for i, obj in enumerate(super().__iter__()):
            obj.position = i
            yield obj


async def test_custom_iterable_falls_back(alias: str) -> None:
    def qs() -> Any:
        queryset = Book.objects.using(alias).order_by("pk")
        queryset._iterable_class = CountingIterable
        return queryset

    async def call() -> Any:
        return [[b async for b in qs()], [b async for b in qs().aiterator(chunk_size=3)]]

    stock, native, report = await stock_and_native(call)
    assert_same(stock, native)
    assert native[0][3].position == 3
    assert report.fallback == {
        "__aiter__": {"custom iterable class CountingIterable": 1},
        "aiterator": {"custom iterable class CountingIterable": 1},
    }


async def test_select_for_update_outside_a_transaction_falls_back(alias: str) -> None:
    stock, native, report = await stock_and_native(
        lambda: Book.objects.using(alias).select_for_update().aget(title="Book 01")
    )
    if connections[alias].features.has_select_for_update:
        assert isinstance(native, Raised) and native.type is transaction.TransactionManagementError
    assert_same(stock, native)
    assert report.fallback == {"aget": {"select_for_update()": 1}}


async def test_databases_setting_limits_native_aliases(alias: str) -> None:
    other = "postgres" if alias == "default" else "default"
    with override_settings(ASYNCORM_NATIVE={"DATABASES": [other]}):
        stock, native, report = await stock_and_native(lambda: Book.objects.using(alias).acount())
    assert_same(stock, native)
    assert report.fallback == {
        "acount": {f"database {alias!r} not in ASYNCORM_NATIVE['DATABASES']": 1}
    }


async def test_django_helper_needing_sync_io_falls_back(alias: str) -> None:
    """A prefetch through a property that opens a cursor itself: Django's answer (an error here)."""

    def touch(self: Publisher) -> int:
        with connections[self._state.db].cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone()[0]

    Publisher.cursor_touch = property(touch)
    try:

        async def call() -> Any:
            publishers = [p async for p in Publisher.objects.using(alias).order_by("pk")]
            await asyncorm_native.aprefetch_related_objects(publishers, "cursor_touch")

        stock, native, report = await stock_and_native(call)
    finally:
        del Publisher.cursor_touch
    assert_same(stock, native)
    assert (
        native.type is ValueError
        and "does not resolve to an item that supports prefetching" in native.message
    )
    (kind,) = report.fallback["aprefetch_related_objects"]
    assert kind.startswith("a Django helper needed synchronous I/O")


async def test_aprefetch_related_objects_works_without_install(alias: str) -> None:
    expected = [p async for p in Publisher.objects.using(alias).order_by("pk")]
    await asyncorm_native.aprefetch_related_objects(expected, "books__tags")
    asyncorm_native.reset_report()
    native = [p async for p in Publisher.objects.using(alias).order_by("pk")]
    await asyncorm_native.aprefetch_related_objects(native, "books__tags")
    await asyncorm_native.close_pools()
    assert not asyncorm_native.is_installed()
    assert asyncorm_native.report().native == {"aprefetch_related_objects": 1}
    assert [len(p.books.all()) for p in native] == [len(p.books.all()) for p in expected]


async def test_unknown_alias_raises_djangos_error(django_databases: set[str]) -> None:
    stock, native, _ = await stock_and_native(lambda: Book.objects.using("nope").acount())
    assert isinstance(native, Raised) and native.type.__name__ == "ConnectionDoesNotExist"
    assert_same(stock, native)


def test_unsupported_backends_and_databases(alias: str, monkeypatch: pytest.MonkeyPatch) -> None:
    wrapper = connections[alias]
    if wrapper.vendor == "sqlite":
        for name in (":memory:", "file:x?mode=memory"):
            monkeypatch.setitem(wrapper.settings_dict, "NAME", name)
            with pytest.raises(Unsupported, match="private in-memory SQLite"):
                pools.check_supported(alias)
        monkeypatch.setitem(wrapper.settings_dict, "NAME", "file:x?mode=memory&cache=shared")
        pools.check_supported(alias)
    monkeypatch.setattr(type(wrapper), "__module__", "some.custom.backend.base")
    monkeypatch.setattr(pools, "_support", {})  # the result is cached per configuration
    with pytest.raises(
        Unsupported, match=r"no native driver for the some\.custom\.backend\.base backend"
    ):
        pools.check_supported(alias)


async def test_fallback_logged_once_per_kind(alias: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="asyncorm_native")
    asyncorm_native.install()
    asyncorm_native.reset_report()
    try:
        for _ in range(3):
            await Gadget.objects.using(alias).acount()
        await Gadget.objects.using(alias).filter(weight__gt=0).acount()
        report = asyncorm_native.report()
    finally:
        asyncorm_native.uninstall()
        await asyncorm_native.close_pools()
    records = [r for r in caplog.records if r.name == "asyncorm_native"]
    assert len(records) == 1
    assert records[0].levelno == logging.DEBUG
    assert (
        "acount() runs Django's stock method: LoudQuerySet overrides count()"
        in records[0].getMessage()
    )
    assert report.fallback == {"acount": {"LoudQuerySet overrides count()": 4}}
    text = str(report)
    assert "acount" in text and "LoudQuerySet overrides count()" in text and "4" in text


def test_sync_prefetch_is_untouched(alias: str) -> None:
    """install() changes a-methods only: sync code still runs Django's own path."""
    asyncorm_native.install()
    try:
        publishers = list(Publisher.objects.using(alias).annotate(n=Count("books")))
        prefetch_related_objects(publishers, "books")
        assert sum(p.n for p in publishers) == sum(len(p.books.all()) for p in publishers)
    finally:
        asyncorm_native.uninstall()

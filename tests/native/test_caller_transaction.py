"""Inside the caller's transaction, native reads run on the caller's connection and see its rows.

Sync code in ``atomic()`` that calls async code (``async_to_sync``), as Django's
``TestCase`` does for async tests: uncommitted rows exist only in that
transaction, so the native read must run there. It does, without a thread hop,
through Django's cursor wrapper (so ``assertNumQueries`` counts it).
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync
from django.db import connections, transaction
from django.test.utils import CaptureQueriesContext

import asyncorm_native

from .zoo.models import Book, Tag


def read_in_transaction(
    alias: str, body: Any, setup: Any = None
) -> tuple[Any, Any, list[dict[str, str]]]:
    asyncorm_native.install()
    asyncorm_native.reset_report()
    try:
        with transaction.atomic(using=alias):
            tag = Tag.objects.using(alias).create(name="uncommitted")
            if setup is not None:
                setup(tag)
            with CaptureQueriesContext(connections[alias]) as queries:
                result = async_to_sync(body)()
            report = asyncorm_native.report()
            transaction.set_rollback(True, using=alias)
    finally:
        asyncorm_native.uninstall()
    return result, report, queries.captured_queries


def test_reads_see_the_callers_uncommitted_rows(alias: str) -> None:
    async def body() -> Any:
        tags = Tag.objects.using(alias)
        return [
            await tags.acount(),
            await tags.filter(name="uncommitted").aexists(),
            (await tags.aget(name="uncommitted")).name,
            [t.name async for t in tags.order_by("name")],
            [t.name async for t in tags.order_by("name").aiterator(chunk_size=2)],
            [t.name async for t in tags.raw("SELECT * FROM zoo_tag ORDER BY name")],
        ]

    result, report, queries = read_in_transaction(alias, body)
    names = ["essay", "kids", "noir", "poetry", "sf", "uncommitted"]
    assert result == [6, True, "uncommitted", names, names, names]
    assert report.fallback_total == 0
    assert report.sessions == {"caller transaction": 6}
    assert len(queries) == 6 and all("zoo_tag" in q["sql"] for q in queries)
    assert not Tag.objects.using(alias).filter(name="uncommitted").exists()  # rolled back
    assert connections[alias].allow_thread_sharing is False


def test_prefetch_runs_in_the_callers_transaction(alias: str) -> None:
    def link(tag: Tag) -> None:
        Book.objects.using(alias).get(title="Book 01").tags.add(tag, through_defaults={"weight": 3})

    async def body() -> Any:
        from django.db.models import aprefetch_related_objects

        tag = await Tag.objects.using(alias).aget(name="uncommitted")
        await aprefetch_related_objects([tag], "books__author")
        return [(b.title, b.author.name) for b in tag.books.all()]

    result, report, _ = read_in_transaction(alias, body, setup=link)
    assert result == [("Book 01", "Boris")]
    assert report.fallback_total == 0 and set(report.sessions) == {"caller transaction"}


def test_select_for_update_in_the_callers_transaction_runs_stock(alias: str) -> None:
    async def body() -> Any:
        tag = await Tag.objects.using(alias).select_for_update().aget(name="uncommitted")
        return tag.name

    result, report, queries = read_in_transaction(alias, body)
    assert result == "uncommitted"
    assert report.fallback == {"aget": {"select_for_update()": 1}}
    if connections[alias].features.has_select_for_update:
        assert "FOR UPDATE" in queries[0]["sql"]


def test_outside_a_transaction_reads_use_the_pool(alias: str) -> None:
    asyncorm_native.install()
    asyncorm_native.reset_report()

    async def body() -> int:
        try:
            return await Tag.objects.using(alias).acount()
        finally:
            await asyncorm_native.close_pools()

    try:
        assert async_to_sync(body)() == 5
        assert asyncorm_native.report().sessions == {"pool": 1}
    finally:
        asyncorm_native.uninstall()


def test_writes_and_native_blocks_run_in_the_callers_transaction(alias: str) -> None:
    """Writes join the caller's transaction; a native atomic() nests into it as a savepoint."""
    from django.db import IntegrityError

    from .zoo.models import Label

    async def body() -> Any:
        labels = Label.objects.using(alias)
        await labels.acreate(name="caller-1")
        try:
            async with asyncorm_native.atomic(using=alias):
                await labels.acreate(name="caller-2")
                await labels.acreate(name="caller-1")  # unique violation: savepoint rolled back
        except IntegrityError:
            pass
        async with asyncorm_native.atomic(using=alias):
            _, created = await labels.aget_or_create(name="caller-3")
        mine = labels.filter(name__startswith="caller-").values_list("name", flat=True)
        return sorted([n async for n in mine]), created

    asyncorm_native.install()
    asyncorm_native.reset_report()
    try:
        with transaction.atomic(using=alias):
            result = async_to_sync(body)()
            report = asyncorm_native.report()
            seen_in_sync = set(
                Label.objects.using(alias)
                .filter(name__startswith="caller-")
                .values_list("name", flat=True)
            )
            transaction.set_rollback(True, using=alias)
    finally:
        asyncorm_native.uninstall()
    assert result == (["caller-1", "caller-3"], True)
    assert seen_in_sync == {"caller-1", "caller-3"}
    assert not Label.objects.using(alias).filter(name__startswith="caller").exists()
    assert report.fallback_total == 0
    assert set(report.sessions) == {"caller transaction", "atomic block"}
    assert connections[alias].allow_thread_sharing is False

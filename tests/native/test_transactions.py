"""``asyncorm_native.atomic()``: Django's transaction semantics, natively, pinned to the task.

On SQLite and PostgreSQL: rollback leaves no rows, savepoints roll back alone,
``durable`` refuses to nest, ``on_commit`` callbacks (sync and async) run after
the commit only, every native query in the block (reads too) sees the block's
rows while other connections do not, concurrent tasks get their own
transactions, tasks gathered inside one block are serialized (never
interleaved on its connection), cancellation rolls back and returns the
connection, and nothing falls back to Django's stock methods inside a block.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.db import IntegrityError, NotSupportedError
from django.db.transaction import TransactionManagementError
from django.test import override_settings

import asyncorm_native
from asyncorm_native import atomic, on_commit

from .zoo import write_data
from .zoo.models import Gadget, Label, Shop


@pytest.fixture
async def db(alias: str) -> AsyncIterator[str]:
    """The write zoo reloaded, the shim installed; pools closed afterwards."""
    await sync_to_async(write_data.reset)(alias)
    asyncorm_native.install()
    asyncorm_native.reset_report()
    try:
        yield alias
    finally:
        asyncorm_native.uninstall()
        await asyncorm_native.close_pools()


async def committed_names(db: str) -> list[str]:
    """Label names as another connection (Django's, in a thread) sees them."""

    def names() -> list[str]:
        return list(Label.objects.using(db).order_by("name").values_list("name", flat=True))

    return await sync_to_async(names)()


async def test_commit_and_rollback(db: str) -> None:
    async with atomic(using=db):
        await Label.objects.using(db).acreate(name="kept")
        assert await Label.objects.using(db).filter(name="kept").aexists()  # read in the block
        assert "kept" not in await committed_names(db)  # not visible outside yet
    assert "kept" in await committed_names(db)

    with pytest.raises(ValueError):
        async with atomic(using=db):
            await Label.objects.using(db).acreate(name="lost")
            await Label.objects.using(db).filter(name="red").aupdate(rank=99)
            raise ValueError("boom")
    names = await committed_names(db)
    assert "lost" not in names
    assert (await Label.objects.using(db).aget(name="red")).rank == 0
    report = asyncorm_native.report()
    assert report.fallback_total == 0 and report.sessions.get("atomic block") == 4


async def test_savepoint_rollback_inside_outer_block(db: str) -> None:
    async with atomic(using=db):
        await Label.objects.using(db).acreate(name="outer")
        with pytest.raises(IntegrityError):
            async with atomic(using=db):
                await Label.objects.using(db).acreate(name="inner")
                await Label.objects.using(db).acreate(name="red")  # unique violation
        # The savepoint rolled back; the transaction goes on.
        assert not await Label.objects.using(db).filter(name="inner").aexists()
        await Label.objects.using(db).acreate(name="after")
    names = await committed_names(db)
    assert {"outer", "after"} <= set(names) and "inner" not in names


async def test_error_without_savepoint_breaks_the_block(db: str) -> None:
    with pytest.raises(TransactionManagementError, match="until the end of the 'atomic' block"):
        async with atomic(using=db):
            await Label.objects.using(db).acreate(name="first")
            with pytest.raises(IntegrityError):
                await Label.objects.using(db).acreate(name="red")
            await Label.objects.using(db).acount()
    assert "first" not in await committed_names(db)


async def test_get_or_create_race_path_inside_block(db: str) -> None:
    lyon = await Shop.objects.using(db).aget(name="Lyon")
    from .zoo.models import Item

    async with atomic(using=db):
        with pytest.raises(IntegrityError):
            # Not found by qty; the insert hits (shop, name): savepoint rolled back, re-get fails.
            await Item.objects.using(db).aget_or_create(shop=lyon, name="apple", qty=999)
        assert await Item.objects.using(db).filter(name="apple").acount() == 1  # block usable
        _, created = await Label.objects.using(db).aupdate_or_create(
            name="red", defaults={"rank": 5}
        )
    assert not created and (await Label.objects.using(db).aget(name="red")).rank == 5


async def test_durable(db: str) -> None:
    async with atomic(using=db, durable=True):
        await Label.objects.using(db).acreate(name="durable")
        with pytest.raises(RuntimeError, match="durable atomic block cannot be nested"):
            async with atomic(using=db, durable=True):
                pass
    assert "durable" in await committed_names(db)


async def test_on_commit_sync_and_async(db: str) -> None:
    ran: list[str] = []

    async def async_callback() -> None:
        ran.append(f"async sees {await Label.objects.using(db).filter(name='x').acount()}")

    async with atomic(using=db):
        await Label.objects.using(db).acreate(name="x")
        on_commit(lambda: ran.append("sync"), using=db)
        on_commit(async_callback, using=db)
        try:
            async with atomic(using=db):
                on_commit(lambda: ran.append("dropped with its savepoint"), using=db)
                raise ValueError
        except ValueError:
            pass
        assert ran == []
    assert ran == ["sync", "async sees 1"]

    ran.clear()
    with pytest.raises(ValueError):
        async with atomic(using=db):
            on_commit(lambda: ran.append("never"), using=db)
            raise ValueError
    assert ran == []


async def test_on_commit_robust_and_outside_a_block(
    db: str, caplog: pytest.LogCaptureFixture
) -> None:
    ran: list[str] = []

    def fails() -> None:
        raise RuntimeError("callback failed")

    with caplog.at_level(logging.ERROR, logger="asyncorm_native"):
        async with atomic(using=db):
            on_commit(fails, using=db, robust=True)
            on_commit(lambda: ran.append("after"), using=db)
    assert ran == ["after"] and "callback failed" in caplog.text

    done = asyncio.Event()
    on_commit(done.set, using=db)  # no transaction: runs at once
    await asyncio.wait_for(done.wait(), 5)
    with pytest.raises(TypeError, match="must be a callable"):
        on_commit("not callable", using=db)  # type: ignore[arg-type]


async def test_concurrent_transactions_are_isolated(db: str) -> None:
    seen: dict[str, Any] = {}
    first_wrote = asyncio.Event()

    async def writer() -> None:
        async with atomic(using=db):
            await Label.objects.using(db).acreate(name="from-writer")
            first_wrote.set()
            await asyncio.sleep(0.2)
            seen["writer"] = await Label.objects.using(db).filter(name="from-writer").acount()

    async def reader() -> None:
        await first_wrote.wait()
        async with atomic(using=db):
            seen["reader"] = await Label.objects.using(db).filter(name="from-writer").acount()

    await asyncio.gather(writer(), reader())
    assert seen == {"writer": 1, "reader": 0}
    assert "from-writer" in await committed_names(db)


async def test_gather_inside_a_block_is_serialized(db: str) -> None:
    """A sibling's statement never lands inside another task's savepoint."""

    async def rolled_back_savepoint() -> None:
        try:
            async with atomic(using=db):
                await Label.objects.using(db).acreate(name="in-savepoint")
                await asyncio.sleep(0.1)  # the sibling is ready to write now
                raise ValueError
        except ValueError:
            pass

    async def sibling() -> None:
        await asyncio.sleep(0.02)
        await Label.objects.using(db).acreate(name="sibling")

    async with atomic(using=db):
        await asyncio.gather(rolled_back_savepoint(), sibling(), *(
            Label.objects.using(db).acreate(name=f"many{i}") for i in range(5)
        ))
    names = await committed_names(db)
    assert "sibling" in names and "in-savepoint" not in names
    assert {f"many{i}" for i in range(5)} <= set(names)


async def test_task_outliving_its_block_gets_a_clear_error(db: str) -> None:
    started = asyncio.Event()

    async def late() -> Any:
        started.set()
        await asyncio.sleep(0.1)
        return await Label.objects.using(db).acount()

    async with atomic(using=db):
        task = asyncio.create_task(late())
        await started.wait()
    with pytest.raises(TransactionManagementError, match="has ended"):
        await task


async def test_cancellation_rolls_back_and_returns_the_connection(db: str) -> None:
    inside = asyncio.Event()

    async def block() -> None:
        async with atomic(using=db):
            await Label.objects.using(db).acreate(name="cancelled")
            inside.set()
            await asyncio.sleep(10)

    task = asyncio.create_task(block())
    await inside.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert "cancelled" not in await committed_names(db)
    stats = asyncorm_native.report().pools[db]
    assert stats["idle"] == stats["size"], stats
    assert await Label.objects.using(db).acount() == 4  # the pool still works


async def test_no_fallback_inside_a_block(db: str) -> None:
    async with atomic(using=db):
        # Gadget's queryset overrides count(): outside a block acount() falls back to stock.
        with pytest.raises(NotSupportedError, match="would not see this"):
            await Gadget.objects.using(db).acount()
        # select_for_update() runs natively inside a native block.
        locked = await Label.objects.using(db).select_for_update().aget(name="red")
        assert locked.name == "red"


async def test_atomic_on_an_alias_without_native_driver(db: str) -> None:
    with (
        override_settings(ASYNCORM_NATIVE={"DATABASES": ["nothing"]}),
        pytest.raises(NotSupportedError, match="needs a native driver"),
    ):
        async with atomic(using=db):
            pass


async def test_atomic_as_decorator(db: str) -> None:
    @atomic(using=db)
    async def create_two() -> None:
        await Label.objects.using(db).acreate(name="one")
        raise KeyError("two")

    with pytest.raises(KeyError):
        await create_two()
    assert "one" not in await committed_names(db)
    with pytest.raises(TypeError, match="coroutine functions"):
        atomic(using=db)(lambda: None)


async def test_cancelled_inside_a_plans_own_block(db: str) -> None:
    """Collector.delete() sends pre_delete inside its atomic block: cancelled there, rolled back."""
    from django.db.models.signals import pre_delete

    from .zoo.models import Item

    reached = asyncio.Event()

    async def slow_receiver(sender: Any, **kwargs: Any) -> None:
        if sender is Item:
            reached.set()
            await asyncio.sleep(10)

    pre_delete.connect(slow_receiver)
    try:
        lyon = await Shop.objects.using(db).aget(name="Lyon")
        task = asyncio.create_task(lyon.adelete())
        await reached.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    finally:
        pre_delete.disconnect(slow_receiver)
    assert await Item.objects.using(db).filter(shop__name="Lyon").acount() == 3
    stats = asyncorm_native.report().pools[db]
    assert stats["idle"] == stats["size"], stats


async def test_write_fallback_refused_inside_a_block(db: str) -> None:
    from django.contrib.auth.models import User
    from django.test import override_settings

    # A project's password validator: User.save()'s tail may do anything, so no mirror.
    validators = [{"NAME": "tests.native.test_user_save.RecordingValidator"}]
    with override_settings(AUTH_PASSWORD_VALIDATORS=validators):
        with pytest.raises(NotSupportedError, match="would write outside"):
            async with atomic(using=db):
                await User.objects.db_manager(db).acreate(username="inside")
        # Outside a block the same call falls back to Django's stock method, and is counted.
        user = await User.objects.db_manager(db).acreate(username="outside")
    assert asyncorm_native.report().fallback["acreate"] == {"User overrides save()": 1}
    await user.adelete()


async def test_one_atomic_object_shared_by_concurrent_tasks(db: str) -> None:
    block = atomic(using=db)

    async def create(name: str, fail: bool) -> None:
        async with block:
            await Label.objects.using(db).acreate(name=name)
            await asyncio.sleep(0.05)
            if fail:
                raise ValueError(name)

    results = await asyncio.gather(
        create("shared-ok", False), create("shared-fail", True), return_exceptions=True
    )
    assert results[0] is None and isinstance(results[1], ValueError)
    names = await committed_names(db)
    assert "shared-ok" in names and "shared-fail" not in names


def test_on_commit_outside_an_event_loop() -> None:
    with pytest.raises(RuntimeError, match=r"use django\.db\.transaction\.on_commit"):
        on_commit(lambda: None)


async def test_aiterator_with_writes_inside_the_loop(db: str) -> None:
    """The loop body's writes share the block's connection with the open iterator."""
    async with atomic(using=db):
        async for label in Label.objects.using(db).order_by("pk").aiterator(chunk_size=2):
            label.rank += 10
            await label.asave(update_fields=["rank"])
            assert await Label.objects.using(db).filter(pk=label.pk, rank=label.rank).aexists()
    ranks = await sync_to_async(
        lambda: list(Label.objects.using(db).order_by("pk").values_list("rank", flat=True))
    )()
    assert ranks == [10, 11, 12, 13]

"""Pools: cancellation never leaks a connection, pool timeouts say what to do, pools close."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest
from django.db.models import IntegerField
from django.db.models.expressions import RawSQL
from django.test import override_settings

import asyncorm_native
from asyncorm_native import pools
from asyncorm_native.errors import PoolTimeout

from .zoo.models import Book, Tag

#: A scalar subquery that keeps the server busy for a while.
SLOW = {
    "default": "(WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000000) "
    "SELECT count(*) FROM c)",
    "postgres": "(SELECT 1 FROM pg_sleep(3))",
}


def slow_query(alias: str) -> Any:
    return Book.objects.using(alias).annotate(
        slow=RawSQL(SLOW[alias], (), output_field=IntegerField())
    )


def in_use(alias: str) -> int:
    stats = pools.stats()[alias]
    return stats["size"] - stats["idle"]


async def wait_all_returned(alias: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while in_use(alias) and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    assert in_use(alias) == 0, pools.stats()


async def test_cancelled_query_returns_its_connection(alias: str, native: None) -> None:
    await Tag.objects.using(alias).afirst()  # the pool is open
    task = asyncio.create_task(slow_query(alias).afirst())
    await asyncio.sleep(0.3)
    assert in_use(alias) == 1
    started = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await wait_all_returned(alias)
    # The pool still serves, and promptly.
    assert (await Tag.objects.using(alias).order_by("name").afirst()).name == "essay"
    assert time.monotonic() - started < 2.9


async def test_many_cancellations_leak_nothing(alias: str, native: None) -> None:
    tasks = [asyncio.create_task(slow_query(alias).acount()) for _ in range(6)]
    tasks += [asyncio.create_task(Tag.objects.using(alias).acount()) for _ in range(6)]
    await asyncio.sleep(0.2)
    for task in tasks:
        task.cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(r, asyncio.CancelledError | int) for r in results)
    await wait_all_returned(alias)
    assert await Tag.objects.using(alias).acount() == 5


async def test_abandoned_aiterator_returns_its_connection(alias: str, native: None) -> None:
    iterator = Book.objects.using(alias).order_by("pk").aiterator(chunk_size=2)
    assert (await anext(iterator)).title == "Book 00 (reissue)"
    assert in_use(alias) == 1  # the stream holds its cursor's connection
    await iterator.aclose()
    await wait_all_returned(alias)


async def test_pool_timeout_is_a_clear_error(alias: str, native: None) -> None:
    with override_settings(
        ASYNCORM_NATIVE={"POOL": {"min_size": 1, "max_size": 1, "timeout": 0.3}}
    ):
        iterator = Book.objects.using(alias).aiterator(chunk_size=1)
        await anext(iterator)  # holds the only connection
        with pytest.raises(PoolTimeout) as caught:
            await Tag.objects.using(alias).acount()
        message = str(caught.value)
        assert repr(alias) in message and "0.3s" in message and "max_size=1" in message
        assert "ASYNCORM_NATIVE['POOLS']" in message
        await iterator.aclose()
        assert await Tag.objects.using(alias).acount() == 5
    await asyncorm_native.close_pools()


async def test_concurrent_queries_run_at_once(alias: str, native: None) -> None:
    """Gathered queries overlap on the pool instead of queueing behind one thread."""
    sleep = {"default": None, "postgres": "(SELECT 1 FROM pg_sleep(0.2))"}[alias]
    if sleep is None:
        pytest.skip("SQLite has no server-side sleep; overlap is measured on PostgreSQL")
    qs = Book.objects.using(alias).annotate(s=RawSQL(sleep, (), output_field=IntegerField()))
    await asyncio.gather(*(qs.filter(pages__gt=i).afirst() for i in range(5)))  # pool grown to 5
    started = time.monotonic()
    await asyncio.gather(*(qs.filter(pages__gt=i).afirst() for i in range(5)))
    assert time.monotonic() - started < 0.6  # five 0.2 s queries, not 1 s


async def test_close_pools_and_reopen(alias: str, native: None) -> None:
    await Tag.objects.using(alias).acount()
    assert alias in pools.stats()
    await asyncorm_native.close_pools()
    assert pools.stats() == {}
    assert await Tag.objects.using(alias).acount() == 5
    assert alias in pools.stats()


def server_pids(alias: str) -> set[int]:
    """Backend pids of every session connected to the test database."""
    import psycopg
    from django.db import connections

    cfg = connections[alias].settings_dict
    with psycopg.connect(
        dbname="postgres", user=cfg["USER"], host=cfg["HOST"], port=cfg["PORT"], autocommit=True
    ) as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [cfg["NAME"]])
        return {pid for (pid,) in rows}


@pytest.mark.parametrize("ending", ["asyncio.run", "async_to_sync"])
def test_pools_close_when_their_loop_shuts_down(alias: str, ending: str) -> None:
    """No close_pools(), no lifespan: the end of the loop still closes the connections."""
    from asgiref.sync import async_to_sync

    seen: dict[str, Any] = {}

    async def use() -> None:
        await asyncio.gather(*(Tag.objects.using(alias).acount() for _ in range(3)))
        pool = await pools.get_pool(alias)
        if pool.vendor == "postgresql":  # the pool's own record of its connections
            seen["pids"] = {conn.info.backend_pid for conn in pool._connections}
        else:
            seen["threads"] = [conn._thread for conn in pool._idle]  # aiosqlite's threads

    asyncorm_native.install()
    try:
        if ending == "asyncio.run":
            thread = threading.Thread(target=asyncio.run, args=(use(),))
            thread.start()
            thread.join()
        else:
            async_to_sync(use)()
    finally:
        asyncorm_native.uninstall()
    if "pids" in seen:
        assert seen["pids"]
        assert not seen["pids"] & server_pids(alias)
    else:
        assert seen["threads"]
        for thread in seen["threads"]:
            thread.join(timeout=5)  # closing was requested; the thread ends right after
            assert not thread.is_alive()


async def test_settings_change_retires_pools(alias: str, native: None) -> None:
    await Tag.objects.using(alias).acount()
    before = await pools.get_pool(alias)
    with override_settings(TIME_ZONE="Asia/Tokyo"):
        assert alias not in pools.stats()
        await Tag.objects.using(alias).acount()
        assert await pools.get_pool(alias) is not before
    await asyncorm_native.close_pools()

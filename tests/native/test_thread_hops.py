"""Native reads never hop to a thread: no ``asgiref.sync.SyncToAsync`` call at all."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from asgiref.sync import SyncToAsync

import asyncorm_native

from .cases import CASES, POSTGRES_ONLY


@pytest.fixture
def sync_to_async_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    calls: list[Any] = []
    original = SyncToAsync.__call__

    async def counting(self: SyncToAsync, *args: Any, **kwargs: Any) -> Any:
        calls.append(self.func)
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(SyncToAsync, "__call__", counting)
    yield calls


async def run_every_case(alias: str) -> None:
    for name, (_method, func) in sorted(CASES.items()):
        if name in POSTGRES_ONLY and alias != "postgres":
            continue
        with contextlib.suppress(Exception):  # some cases end in Django's exception; fine here
            await func(alias)


async def test_native_reads_make_no_thread_hop(alias: str, sync_to_async_calls: list[Any]) -> None:
    asyncorm_native.install()
    asyncorm_native.reset_report()
    try:
        await run_every_case(alias)
        report = asyncorm_native.report()
    finally:
        asyncorm_native.uninstall()
        await asyncorm_native.close_pools()
    assert sum(report.native.values()) > 100, report
    assert report.fallback_total == 0, report
    assert sync_to_async_calls == []


async def test_stock_reads_do_hop(alias: str, sync_to_async_calls: list[Any]) -> None:
    """The counter works: the same cases through Django's stock methods hop on every query."""
    await run_every_case(alias)
    assert len(sync_to_async_calls) > 100


async def test_native_writes_make_no_thread_hop(
    alias: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every write case, natively, without signal receivers: no thread hop either.

    (With sync receivers connected, they run in ``sync_to_async``'s thread, by design.)
    """
    from asgiref.sync import sync_to_async

    from .write_cases import WRITE_CASES
    from .zoo import write_data

    hops: list[Any] = []
    counting: str | None = None  # the case running, while hops are counted
    original = SyncToAsync.__call__

    async def counted(self: SyncToAsync, *args: Any, **kwargs: Any) -> Any:
        if counting is not None:
            hops.append((counting, self.func))
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(SyncToAsync, "__call__", counted)
    asyncorm_native.install()
    asyncorm_native.reset_report()
    try:
        for name, (_method, func) in sorted(WRITE_CASES.items()):
            await sync_to_async(write_data.reset)(alias)
            counting = name
            with contextlib.suppress(Exception):
                await func(alias)
            counting = None
        report = asyncorm_native.report()
    finally:
        asyncorm_native.uninstall()
        await asyncorm_native.close_pools()
    assert sum(report.native.values()) > 150, report
    assert report.fallback_total == 0, report
    assert hops == []

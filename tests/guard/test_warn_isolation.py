"""Warn mode lets one call through, never the process: unguarded tasks and threads running at
the same time still get Django's own ``SynchronousOnlyOperation``.
"""

from __future__ import annotations

import asyncio
import os
import threading

import pytest
from django.core.exceptions import SynchronousOnlyOperation

from runtime_guard import scope
from runtime_guard.settings import GuardSettings
from runtime_guard.unsafe_orm import GuardSynchronousOnlyOperation
from tests.guard.conftest import Blog, RecordCollector


def count_articles() -> int:
    from guard_app.models import Article

    return Article.objects.count()


async def test_guarded_and_unguarded_tasks_interleaved(
    blog: Blog, installed, guard_log: RecordCollector
) -> None:
    outcomes: dict[str, list[str]] = {"guarded": [], "unguarded": []}

    async def run(name: str, guarded: bool) -> None:
        async def body() -> None:
            for _ in range(5):
                try:
                    count_articles()
                    outcomes[name].append("ran")
                except SynchronousOnlyOperation as exc:
                    outcomes[name].append(type(exc).__name__)
                await asyncio.sleep(0.001)

        if guarded:
            with scope.activate(scope.GuardScope(GuardSettings(mode="log"), name, "request")):
                await body()
        else:
            await body()

    await asyncio.gather(run("guarded", True), run("unguarded", False))
    assert outcomes["guarded"] == ["ran"] * 5
    assert outcomes["unguarded"] == ["SynchronousOnlyOperation"] * 5
    assert "DJANGO_ALLOW_ASYNC_UNSAFE" not in os.environ
    [record] = guard_log.of_kind("violation")  # one location, logged once
    assert record.request_path == "guarded"


def test_guarded_and_unguarded_threads_at_once(blog: Blog, installed) -> None:
    """Two event loops in two threads at the same time: the decision is per call."""
    from tests.guard import routers

    barrier = threading.Barrier(2)
    outcomes: dict[str, list[str]] = {}

    def thread(name: str, mode: str | None) -> None:
        routers.alias.set(blog.alias)

        async def main() -> None:
            results = []
            barrier.wait()
            for _ in range(20):
                try:
                    count_articles()
                    results.append("ran")
                except GuardSynchronousOnlyOperation:
                    results.append("guard")
                except SynchronousOnlyOperation:
                    results.append("django")
                await asyncio.sleep(0)
            outcomes[name] = results

        if mode is None:
            asyncio.run(main())
            return
        guarded = scope.GuardScope(GuardSettings(mode=mode), name, "request")

        async def guarded_main() -> None:
            with scope.activate(guarded):
                await main()

        asyncio.run(guarded_main())

    threads = [
        threading.Thread(target=thread, args=("warned", "log")),
        threading.Thread(target=thread, args=("plain", None)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert outcomes["warned"] == ["ran"] * 20
    assert outcomes["plain"] == ["django"] * 20


async def test_raise_mode_in_one_task_does_not_affect_another(blog: Blog, installed) -> None:
    async def guarded(mode: str) -> str:
        with scope.activate(scope.GuardScope(GuardSettings(mode=mode), mode, "request")):
            await asyncio.sleep(0)
            try:
                count_articles()
                return "ran"
            except GuardSynchronousOnlyOperation:
                return "raised"

    assert await asyncio.gather(guarded("raise"), guarded("log")) == ["raised", "ran"]


async def test_django_allow_async_unsafe_is_respected_in_raise_mode(
    blog: Blog, installed, guard_log: RecordCollector, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process that opted out of Django's check still gets the report, not an exception."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "1")
    with scope.activate(scope.GuardScope(GuardSettings(mode="raise"), "opted-out", "request")):
        assert count_articles() == len(blog.articles)
    [record] = guard_log.of_kind("violation")
    assert record.code == "DJA101"

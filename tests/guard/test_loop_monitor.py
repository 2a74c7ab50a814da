"""Event-loop blocking: reported over the threshold, with the request and the user's line."""

from __future__ import annotations

import asyncio
import contextvars
import time
from pathlib import Path

from django.test import AsyncClient

from runtime_guard import loop_monitor, scope
from runtime_guard.settings import GuardSettings
from tests.guard.conftest import RecordCollector, marked_line


def header(response) -> dict[str, int]:
    return {k: int(v) for k, v in (p.split("=") for p in response["X-AsyncORM-Guard"].split())}


def at_least(blocked_ms: float, threshold_ms: float) -> float:
    """The reported duration is a lower bound, within one watchdog poll of the truth."""
    return blocked_ms - min(max(threshold_ms / 4, 2), 25) - 2


async def test_blocking_view_reported_with_request_and_line(
    guard_settings, guard_log: RecordCollector
) -> None:
    guard_settings(slow_callback_ms=60)
    response = await AsyncClient().get("/guard/slow/?ms=200")
    assert response.status_code == 200
    assert header(response)["blocked_ms"] >= at_least(200, 60)
    [record] = guard_log.of_kind("blocked")
    assert record.code == "DJG003"
    assert at_least(200, 60) <= record.duration_ms <= 400
    assert record.request_path == "GET /guard/slow/?ms=200"
    assert record.file.endswith("views.py") and record.line == marked_line("blocked sleep")
    assert record.function == "slow"
    assert "sync_to_async" in record.getMessage()


async def test_request_served_in_one_loop_step(guard_settings, guard_log: RecordCollector):
    """No sync middleware, so the view runs and the scope ends in the blocking step."""
    from django.test import override_settings

    guard_settings(slow_callback_ms=60)
    with override_settings(MIDDLEWARE=["runtime_guard.middleware.AsyncORMGuardMiddleware"]):
        response = await AsyncClient().get("/guard/slow/?ms=150")
    assert header(response)["blocked_ms"] == 0  # the header is written before the step ends
    [record] = guard_log.of_kind("blocked")
    assert record.request_path == "GET /guard/slow/?ms=150"
    assert record.duration_ms >= at_least(150, 60)
    assert record.line == marked_line("blocked sleep")  # sampled at the threshold
    [summary] = guard_log.of_kind("request")
    assert summary.blocked_ms >= at_least(150, 60)


async def test_short_callbacks_are_not_reported(guard_settings, guard_log: RecordCollector):
    guard_settings(slow_callback_ms=150)
    response = await AsyncClient().get("/guard/slow/?ms=20")
    assert header(response)["blocked_ms"] == 0
    assert guard_log.of_kind("blocked") == []


async def test_blocking_outside_a_scope_is_not_reported(installed, guard_log: RecordCollector):
    time.sleep(0.15)
    await asyncio.sleep(0)
    assert guard_log.of_kind("blocked") == []


async def test_without_a_user_frame_the_suspension_point_is_named(
    installed, guard_log: RecordCollector, monkeypatch
) -> None:
    """When the sampled stack held no user frame, the task's await point is the location."""
    sample = loop_monitor._sample

    def without_location(tid: int):
        found = sample(tid)
        return None if found is None else (found[0], None, found[2])

    monkeypatch.setattr(loop_monitor, "_sample", without_location)
    loop_monitor.use_threshold(50)  # what a middleware with these settings would install

    async def blocks_then_waits() -> None:
        time.sleep(0.12)
        await asyncio.sleep(0.01)  # guard: suspended here

    guarded = scope.GuardScope(GuardSettings(slow_callback_ms=50), "manual", "request")
    with scope.activate(guarded):
        await asyncio.create_task(blocks_then_waits())
    [record] = guard_log.of_kind("blocked")
    assert record.line == marked_line("suspended here", Path(__file__))
    assert record.request_path == "manual"


def test_lowest_threshold_wins() -> None:
    before = loop_monitor._threshold_s
    try:
        loop_monitor.use_threshold(5000)
        assert loop_monitor._threshold_s == before
        loop_monitor.use_threshold(before * 1000 / 2)
        assert loop_monitor._threshold_s == before / 2
    finally:
        loop_monitor._threshold_s = before


async def test_a_busy_loop_is_charged_to_the_callback_that_blocked_it(
    installed, guard_log: RecordCollector
) -> None:
    """Many short callbacks in a row, then one long one: only the long one is reported.

    Under load the heartbeat is late because the loop runs many ready callbacks, not one
    long one. The lateness must not be charged to whichever short callback was sampled twice,
    and the long callback after it must not go unreported (regression: the watchdog stopped
    sampling once it had confirmed a short callback, and charged it the whole delay).
    """
    loop_monitor.use_threshold(100)
    busy = scope.GuardScope(GuardSettings(slow_callback_ms=100), "busy", "request")
    blocking = scope.GuardScope(GuardSettings(slow_callback_ms=100), "blocking", "request")

    async def short() -> None:
        time.sleep(0.005)

    async def long() -> None:
        time.sleep(0.15)

    def start(guarded: scope.GuardScope, coro) -> asyncio.Task:
        context = contextvars.copy_context()  # the task runs in its request's scope
        context.run(scope._current.set, guarded)
        return asyncio.get_running_loop().create_task(coro, context=context)

    tasks = [start(busy, short()) for _ in range(60)] + [start(blocking, long())]
    await asyncio.gather(*tasks)
    await asyncio.sleep(0.05)  # the heartbeat after the long callback
    blocked = guard_log.of_kind("blocked")
    assert [(r.request_path, r.function.rsplit(".")[-1]) for r in blocked] == [("blocking", "long")]
    assert 125 <= blocked[0].duration_ms <= 300

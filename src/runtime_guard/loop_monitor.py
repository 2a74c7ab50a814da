"""Event-loop blocking: callbacks that hold the loop longer than ``slow_callback_ms``.

The measurement is asyncio debug mode's (``slow_callback_duration``) without debug mode's
cost: ``asyncio.Handle._run`` is timed, and a long callback is charged to the guard scope
found in the callback's own context (a task step runs in its task's context, so that is
the request). A watchdog thread samples the loop thread's stack while a callback overruns,
which names the user's line that is blocking, not just the coroutine that did.

Covers asyncio's own event loops (the default for uvicorn without uvloop, daphne via
asyncio, Django's test client); uvloop runs callbacks in C and is not observed.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
import time
from asyncio import events
from typing import Any

from runtime_guard import attribution, reporting, scope
from runtime_guard.records import LOOP_BLOCKED, Location, Record, RecordKind

logger = logging.getLogger("runtime_guard")

_original_run = events.Handle._run
# Per loop thread: [start of the running callback (0.0: none), (start, sampled location),
# start of the callback already reported]. The start time identifies the callback, so the
# slot is reused without allocating.
_slots: dict[int, list[Any]] = {}
_threshold_s = 0.1
_watchdog: _Watchdog | None = None
_lock = threading.Lock()
_perf_counter = time.perf_counter
_get_ident = threading.get_ident


def _new_slot() -> list[Any]:
    slot: list[Any] = [0.0, None, 0.0]
    _slots[_get_ident()] = slot
    return slot


def _timed_run(self: events.Handle) -> None:
    """``Handle._run``, timed (kept lean: it runs for every callback of every loop)."""
    slot = _slots.get(_get_ident()) or _new_slot()
    start = slot[0] = _perf_counter()
    try:
        _original_run(self)
    finally:
        elapsed = _perf_counter() - start
        slot[0] = 0.0
        if elapsed >= _threshold_s and slot[2] != start:
            try:
                _report(self, elapsed, _sample(slot, start))
            except Exception:  # a guard bug must not stop the event loop: say so loudly
                logger.exception("runtime_guard: could not report a slow callback")


def _sample(slot: list[Any], start: float) -> Location | bool | None:
    """The watchdog's sample for the callback that started at ``start``, if any."""
    sample = slot[1]
    return sample[1] if sample and sample[0] == start else None


def _before_leave(guarded: scope.GuardScope) -> None:
    """A scope ends inside a callback that already overran: report it for that scope now.

    After the scope is left its context variable is gone, so the end of the callback could
    no longer tell whose request blocked the loop (a request served in one loop step).
    """
    slot = _slots.get(_get_ident())
    if slot is None or not slot[0]:
        return
    start = slot[0]
    elapsed = _perf_counter() - start
    if elapsed * 1000 >= guarded.settings.slow_callback_ms and slot[2] != start:
        slot[2] = start
        sample = _sample(slot, start)
        try:
            _record(guarded, elapsed, sample if isinstance(sample, Location) else None)
        except Exception:  # the request's own outcome must not change
            logger.exception("runtime_guard: could not report a slow callback")


def _suspended_location(handle: events.Handle) -> Location | None:
    """Where the task that ran is now suspended (when the watchdog took no sample)."""
    task = getattr(handle._callback, "__self__", None)
    if not isinstance(task, asyncio.Task):
        return None
    found = None
    awaitable: Any = task.get_coro()
    while awaitable is not None:
        frame = getattr(awaitable, "cr_frame", None) or getattr(awaitable, "gi_frame", None)
        if frame is not None and not attribution.classifier.is_library(frame.f_code):
            found = attribution.location_of(frame)
        awaitable = getattr(awaitable, "cr_await", None) or getattr(awaitable, "gi_yieldfrom", None)
    return found


def _report(handle: events.Handle, elapsed: float, sample: Location | bool | None) -> None:
    """A callback overran: charge it to the scope in its context."""
    guarded = scope.in_context(handle._context)
    if guarded is None or elapsed * 1000 < guarded.settings.slow_callback_ms:
        return
    _record(guarded, elapsed,
            sample if isinstance(sample, Location) else _suspended_location(handle))


def _record(guarded: scope.GuardScope, elapsed: float, location: Location | None) -> None:
    ms = elapsed * 1000
    request = guarded.kind == "request"
    where = f" [request {guarded.label}]" if request else ""
    record = Record(
        kind=RecordKind.BLOCKED,
        code=LOOP_BLOCKED,
        message=f"{LOOP_BLOCKED} {location or '?'}: the event loop was blocked for {ms:.0f} ms"
        f" (threshold {guarded.settings.slow_callback_ms:g} ms): move the blocking work into"
        f" `await sync_to_async(fn)()` or use an async API{where}",
        operation="event loop blocked",
        replacement="await sync_to_async(fn)()",
        location=location,
        request_id=guarded.id if request else None,
        request_path=guarded.label if request else None,
        duration_ms=ms,
        thread=threading.current_thread().name,
        mode=guarded.settings.mode,
    )
    guarded.add_blocked(record)
    reporting.log(record)


def _poll_interval() -> float:
    """Half the threshold, 5 to 50 ms: each wake-up costs the loop a GIL hand-off. A poll
    that finds a callback running schedules the next wake-up for the moment it would
    overrun, so the sample is taken at the threshold."""
    return min(max(_threshold_s / 2, 0.005), 0.05)


class _Watchdog(threading.Thread):
    """Samples the stack of a loop thread whose current callback overran the threshold."""

    def __init__(self) -> None:
        super().__init__(name="runtime_guard-loop-watchdog", daemon=True)
        self.stopping = threading.Event()

    def run(self) -> None:
        wait = _poll_interval()
        next_prune = _perf_counter() + 5
        while not self.stopping.wait(wait):
            now = _perf_counter()
            wait = _poll_interval()
            for tid, slot in list(_slots.items()):
                start = slot[0]
                sampled = slot[1]
                if not start or (sampled is not None and sampled[0] == start):
                    continue
                due = start + _threshold_s - now
                if due > 0:  # wake again exactly when this callback would overrun
                    wait = min(wait, due + 0.001)
                    continue
                frame = sys._current_frames().get(tid)
                if frame is not None and slot[0] == start:  # still the same callback
                    slot[1] = (start, attribution.user_location(frame) or False)
            if now >= next_prune:  # loop threads come and go (async_to_sync makes one each call)
                next_prune = now + 5
                alive = {t.ident for t in threading.enumerate()}
                for tid in [t for t, slot in _slots.items() if t not in alive and not slot[0]]:
                    _slots.pop(tid, None)


def use_threshold(ms: float) -> None:
    """Make sure callbacks longer than ``ms`` are measured (the lowest threshold wins)."""
    global _threshold_s
    _threshold_s = min(_threshold_s, ms / 1000)


def install(threshold_ms: float) -> None:
    """Time every asyncio callback and start the watchdog (idempotent)."""
    global _watchdog, _threshold_s
    with _lock:
        if events.Handle._run is not _timed_run:
            _threshold_s = threshold_ms / 1000
            events.Handle._run = _timed_run  # type: ignore[method-assign]
            scope.leave_hooks.append(_before_leave)
        else:
            use_threshold(threshold_ms)
        if _watchdog is None or not _watchdog.is_alive():
            _watchdog = _Watchdog()
            _watchdog.start()


def uninstall() -> None:
    global _watchdog
    with _lock:
        events.Handle._run = _original_run  # type: ignore[method-assign]
        while _before_leave in scope.leave_hooks:
            scope.leave_hooks.remove(_before_leave)
        if _watchdog is not None:
            _watchdog.stopping.set()
            _watchdog.join(timeout=1)
            _watchdog = None

"""Event-loop blocking: a callback that holds the loop longer than ``slow_callback_ms``.

What asyncio's debug mode reports (``slow_callback_duration``), without a cost per
callback. A watchdog thread posts a heartbeat callback to every running asyncio loop each
poll (``slow_callback_ms / 4``, 2 to 25 ms). While a heartbeat is overdue, the watchdog
samples the loop thread's stack: the callback being run (asyncio's ``Handle._run`` frame),
the guard scope in that callback's context (the request) and the user's innermost frame.
When the same callback is still running at the threshold, it is the one blocking the loop;
when the heartbeat finally runs, the block is reported with the heartbeat's delay as its
duration (a lower bound, within one poll of the truth). A scope that ends inside the
blocking callback is charged before it closes.

Covers asyncio's own event loops (uvicorn without uvloop, daphne, Django's test client,
``asyncio.run``); uvloop runs callbacks in C and is not observed.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
import time
from asyncio import base_events, events
from typing import Any

from runtime_guard import attribution, reporting, scope
from runtime_guard.records import LOOP_BLOCKED, Location, Record, RecordKind

logger = logging.getLogger("runtime_guard")

_HANDLE_RUN = events.Handle._run.__code__
_original_run_forever = base_events.BaseEventLoop.run_forever
_threshold_s = 0.1
_watchdog: _Watchdog | None = None
_lock = threading.Lock()
_perf_counter = time.perf_counter

# A sample of a loop thread: (the handle being run, user location or None, guard scope).
Sample = tuple[events.Handle, Location | None, "scope.GuardScope | None"]


class _LoopState:
    """One running loop, as the watchdog and its heartbeat see it."""

    __slots__ = ("confirmed", "loop", "posted", "reported", "suspect")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.posted = 0.0  # when the pending heartbeat was posted (0.0: none pending)
        self.suspect: Sample | None = None  # the callback running while the beat was late
        self.confirmed: Sample | None = None  # ... and still running at the threshold
        self.reported = False  # a leaving scope already reported this block


_states: dict[int, _LoopState] = {}  # loop thread id -> state


def _watch(loop: asyncio.AbstractEventLoop) -> None:
    """Watch ``loop``, running in the calling thread."""
    tid = threading.get_ident()
    state = _states.get(tid)
    if state is None or state.loop is not loop:
        _states[tid] = _LoopState(loop)


def _run_forever(self: base_events.BaseEventLoop) -> None:
    """``BaseEventLoop.run_forever``: watched while it runs."""
    _watch(self)
    try:
        _original_run_forever(self)
    finally:
        state = _states.get(threading.get_ident())
        if state is not None and state.loop is self:
            del _states[threading.get_ident()]


def _beat(state: _LoopState) -> None:
    """The heartbeat, on the loop: report the block it waited behind, if one was confirmed."""
    lag = _perf_counter() - state.posted
    state.posted = 0.0
    confirmed, state.suspect, state.confirmed = state.confirmed, None, None
    reported, state.reported = state.reported, False
    if confirmed is None or reported:
        return
    handle, location, guarded = confirmed
    if guarded is not None and lag * 1000 >= guarded.settings.slow_callback_ms:
        _record(guarded, lag, location or _suspended_location(handle))


def _before_leave(guarded: scope.GuardScope) -> None:
    """A scope ends inside the callback that blocks the loop: charge it before it closes.

    Once the scope is left, its request's summary is written and the heartbeat, which runs
    only after the blocking callback, would be too late for it.
    """
    state = _states.get(threading.get_ident())
    if state is None or not state.posted or state.reported:
        return
    elapsed = _perf_counter() - state.posted
    sample = state.confirmed or state.suspect
    if (
        sample is None
        or sample[2] is not guarded
        or elapsed * 1000 < guarded.settings.slow_callback_ms
    ):
        return
    state.reported = True
    _record(guarded, elapsed, sample[1] or _suspended_location(sample[0]))


def _suspended_location(handle: events.Handle) -> Location | None:
    """Where the task that ran is now suspended (when the sample held no user frame)."""
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


def _record(guarded: scope.GuardScope, elapsed: float, location: Location | None) -> None:
    try:
        ms = elapsed * 1000
        request = guarded.kind == "request"
        where = f" [request {guarded.label}]" if request else ""
        record = Record(
            kind=RecordKind.BLOCKED,
            code=LOOP_BLOCKED,
            message=f"{LOOP_BLOCKED} {location or '?'}: the event loop was blocked for"
            f" {ms:.0f} ms (threshold {guarded.settings.slow_callback_ms:g} ms): move the"
            f" blocking work into `await sync_to_async(fn)()` or use an async API{where}",
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
    except Exception:  # a guard bug must not break the loop or the request: say so loudly
        logger.exception("runtime_guard: could not report a blocked event loop")


def _sample(tid: int) -> Sample | None:
    """What the loop thread ``tid`` runs now: None unless it is inside a callback."""
    frame = sys._current_frames().get(tid)
    location: Location | None = None
    crossed_boundary = False
    is_library = attribution.classifier.is_library
    while frame is not None:
        code = frame.f_code
        if code is _HANDLE_RUN:
            handle = frame.f_locals.get("self")
            if not isinstance(handle, events.Handle):
                return None
            return handle, location, scope.in_context(handle._context)
        if code in attribution.boundaries:
            crossed_boundary = True
        elif location is None and not crossed_boundary and not is_library(code):
            location = attribution.location_of(frame)
        frame = frame.f_back
    return None


def _poll_interval() -> float:
    """A quarter of the threshold, 2 to 25 ms: each poll costs the loop one heartbeat."""
    return min(max(_threshold_s / 4, 0.002), 0.025)


class _Watchdog(threading.Thread):
    """Posts heartbeats and samples loop threads whose heartbeat is late."""

    def __init__(self) -> None:
        super().__init__(name="runtime_guard-loop-watchdog", daemon=True)
        self.stopping = threading.Event()

    def run(self) -> None:
        wait = _poll_interval()
        while not self.stopping.wait(wait):
            wait = _poll_interval()
            for tid, state in list(_states.items()):
                wait = min(wait, self._poll(tid, state, wait))

    def _poll(self, tid: int, state: _LoopState, poll: float) -> float:
        """Look at one loop; return how soon to look again."""
        loop = state.loop
        if loop.is_closed() or not loop.is_running():
            if _states.get(tid) is state:
                _states.pop(tid, None)
            return poll
        now = _perf_counter()
        if not state.posted:
            state.posted = now
            try:
                loop.call_soon_threadsafe(_beat, state)
            except RuntimeError:  # closed meanwhile
                state.posted = 0.0
            return poll
        overdue = now - state.posted
        if overdue < poll or state.confirmed is not None:
            return poll
        sample = _sample(tid)
        if sample is None:
            return poll
        if state.suspect is None or state.suspect[0] is not sample[0]:
            state.suspect = sample  # first sight of this callback while the beat is late
        elif overdue >= _threshold_s:
            state.confirmed = sample  # the same callback, still running at the threshold
            return poll
        return max(state.posted + _threshold_s - now, 0.001)


def use_threshold(ms: float) -> None:
    """Make sure callbacks longer than ``ms`` are caught (the lowest threshold wins)."""
    global _threshold_s
    _threshold_s = min(_threshold_s, ms / 1000)


def install(threshold_ms: float) -> None:
    """Watch every asyncio loop and start the watchdog (idempotent)."""
    global _watchdog, _threshold_s
    with _lock:
        if base_events.BaseEventLoop.run_forever is not _run_forever:
            _threshold_s = threshold_ms / 1000
            base_events.BaseEventLoop.run_forever = _run_forever  # type: ignore[method-assign]
            scope.leave_hooks.append(_before_leave)
        else:
            use_threshold(threshold_ms)
        running = events._get_running_loop()  # Django loads middleware inside the server's loop
        if running is not None:
            _watch(running)
        if _watchdog is None or not _watchdog.is_alive():
            _watchdog = _Watchdog()
            _watchdog.start()


def uninstall() -> None:
    global _watchdog
    with _lock:
        base_events.BaseEventLoop.run_forever = _original_run_forever  # type: ignore[method-assign]
        while _before_leave in scope.leave_hooks:
            scope.leave_hooks.remove(_before_leave)
        if _watchdog is not None:
            _watchdog.stopping.set()
            _watchdog.join(timeout=1)
            _watchdog = None
        _states.clear()

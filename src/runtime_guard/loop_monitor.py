"""Event-loop blocking: a callback that holds the loop longer than ``slow_callback_ms``.

What asyncio's debug mode reports (``slow_callback_duration``), without a cost per
callback. A watchdog thread posts a heartbeat callback to every running asyncio loop each
poll (``slow_callback_ms / 4``, 2 to 25 ms). While a heartbeat is overdue, the watchdog
samples the loop thread's stack every poll: the callback being run (asyncio's
``Handle._run`` frame), the guard scope in that callback's context (the request) and the
user's innermost frame. A callback is timed by those samples (:func:`_held`) until its end
is seen (by the next sample, the heartbeat, or its scope ending inside it); over the
threshold, it is reported, named by the line sampled at the threshold.

The heartbeat's delay alone is no measure of one callback: under load the loop is late
because it runs many short callbacks in a row, and none of them is charged for the others.

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
from types import FrameType
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
_FIRST_LOOK = 0.002  # a heartbeat not run this long after its posting is late

# A sample of a loop thread: (the handle being run, user location or None, guard scope).
Sample = tuple[events.Handle, Location | None, "scope.GuardScope | None"]


class _Running:
    """A callback the watchdog saw running on a loop whose heartbeat was late."""

    __slots__ = (
        "first_seen",
        "guarded",
        "handle",
        "last_seen",
        "location",
        "named",
        "not_before",
        "reported",
    )

    def __init__(self, sample: Sample, not_before: float, now: float) -> None:
        self.handle, self.location, self.guarded = sample
        self.not_before = not_before  # the loop was seen doing something else then
        self.first_seen = self.last_seen = now
        self.named = False  # the location is the one sampled at the threshold
        self.reported = False  # its scope, ending inside it, already reported it


class _LoopState:
    """One running loop, as the watchdog and its heartbeat see it.

    ``lock`` orders the heartbeat (on the loop thread), a leaving scope (on the loop thread)
    and the watchdog's samples: a sample taken before the heartbeat ran is stale.
    """

    __slots__ = ("last_look", "lock", "loop", "next_post", "posted", "running", "thread_name")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.thread_name = threading.current_thread().name
        self.lock = threading.Lock()
        self.posted = 0.0  # when the pending heartbeat was posted (0.0: none pending)
        self.next_post = 0.0  # heartbeats are posted one poll apart
        self.last_look = _perf_counter()  # last time the loop was seen between or in callbacks
        self.running: _Running | None = None  # the callback seen at the last sample


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


def _held(state: _LoopState, running: _Running, until: float) -> float:
    """How long ``running`` held the loop, its end seen by ``until``, in seconds.

    From the latest moment it cannot have started before: the heartbeat's posting (had it
    been running already, the watchdog saw it 2 ms after the posting; the time before is not
    counted, an underestimate by at most one poll, the posting following the previous
    heartbeat within a poll), the last sample that saw the loop do something else, two polls
    before it was first seen. To the earliest moment it must have ended by: ``until``, one
    poll after it was last seen.

    While the watchdog samples every poll, this is the callback's duration within one poll
    below and two above: a block over 1.25 thresholds is always reported, one under half the
    threshold never. Whatever the sampling, it is at least the time the watchdog saw the
    callback running (first to last sample) and at most three polls more: a watchdog kept
    waiting for a CPU or the GIL can miss a block near the threshold, but never reports a
    callback it saw once (three polls are 0.75 threshold), nor charges a short callback for
    the loop's whole delay behind other callbacks.
    """
    poll = _poll_interval()
    start = max(state.posted, running.not_before, running.first_seen - 2 * poll)
    return min(until, running.last_seen + poll) - start


def _over_threshold(running: _Running, seconds: float) -> bool:
    guarded = running.guarded
    return guarded is not None and seconds * 1000 >= guarded.settings.slow_callback_ms


def _ended(state: _LoopState, until: float) -> tuple[_Running, float] | None:
    """The tracked callback has ended by ``until``: what to report, if anything (under lock)."""
    running, state.running = state.running, None
    if running is None or running.reported:
        return None
    held = _held(state, running, until)
    return (running, held) if _over_threshold(running, held) else None


def _observe(state: _LoopState, sample: Sample | None, now: float) -> tuple[_Running, float] | None:
    """Take in one sample of the loop thread (under lock); a callback that ended, to report."""
    ended = None
    running = state.running
    if running is not None and (sample is None or sample[0] is not running.handle):
        ended = _ended(state, now)
        running = None
    if sample is not None:
        if running is None:
            running = state.running = _Running(sample, state.last_look, now)
        running.last_seen = now
        if not running.named:
            running.location = sample[1]
            running.named = _held(state, running, now) >= _threshold_s
    state.last_look = now
    return ended


def _report(state: _LoopState, running: _Running, held: float) -> None:
    if running.guarded is not None:
        location = running.location or _suspended_location(running.handle)
        _record(running.guarded, held, location, state.thread_name)


def _beat(state: _LoopState) -> None:
    """The heartbeat, on the loop: the callbacks before it have ended."""
    now = _perf_counter()
    with state.lock:
        ended = _ended(state, now)
        state.posted = 0.0
        state.last_look = now
    if ended is not None:
        _report(state, *ended)


def _current_handle() -> events.Handle | None:
    """The callback the calling (loop) thread is running."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        if frame.f_code is _HANDLE_RUN:
            handle = frame.f_locals.get("self")
            return handle if isinstance(handle, events.Handle) else None
        frame = frame.f_back
    return None


def _before_leave(guarded: scope.GuardScope) -> None:
    """A scope ends while the heartbeat is late: charge it a block it ran, before it closes.

    Once the scope is left, its request's summary is written, and the heartbeat (which runs
    only after the blocking callback) or the watchdog's next sample would be too late for it.
    """
    state = _states.get(threading.get_ident())
    if state is None or state.running is None:
        return
    now = _perf_counter()
    with state.lock:
        running = state.running
        if running is None or running.guarded is not guarded or running.reported:
            return
        if running.handle is _current_handle():
            running.last_seen = now  # still running: it is blocking right now
        held = _held(state, running, running.last_seen)
        if not _over_threshold(running, held):
            return
        running.reported = True
    _report(state, running, held)


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


def _record(
    guarded: scope.GuardScope, elapsed: float, location: Location | None, thread_name: str
) -> None:
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
            thread=thread_name,
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
            wait = poll = _poll_interval()
            for tid, state in list(_states.items()):
                wait = min(wait, self._poll(tid, state, poll))
            wait = max(wait, 0.001)

    def _poll(self, tid: int, state: _LoopState, poll: float) -> float:
        """Look at one loop; return how soon to look again."""
        loop = state.loop
        if loop.is_closed() or not loop.is_running():
            if _states.get(tid) is state:
                _states.pop(tid, None)
            return poll
        posted = state.posted
        if not posted:
            now = _perf_counter()
            if now < state.next_post:
                return state.next_post - now
            state.posted, state.next_post = now, now + poll
            try:
                loop.call_soon_threadsafe(_beat, state)
            except RuntimeError:  # closed meanwhile
                state.posted = 0.0
                return poll
            return _FIRST_LOOK
        if _perf_counter() - posted < _FIRST_LOOK / 2:
            return poll  # woken early for another loop
        # The heartbeat is late: sample at once (a callback running now began before the
        # posting), then every poll until it runs, so that each callback's start and end are
        # known within one poll.
        sample = _sample(tid)
        now = _perf_counter()
        with state.lock:
            if state.posted != posted:  # the heartbeat ran meanwhile: the sample is stale
                return poll
            ended = _observe(state, sample, now)
        if ended is not None:
            _report(state, *ended)
        return poll


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

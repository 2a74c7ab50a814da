"""Deeply nested code, run on a thread with a large stack and a raised recursion limit.

Valid Python can nest deeper than a default thread allows: libcst's native parser
recurses on the C stack (a 10,000-term ``and`` chain overflows the main thread's 8 MiB
and kills the process outright), and tree walks recurse in Python (a 1,000-term string
concatenation, which CPython compiles, exceeds the default limit of 1,000 frames).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

STACK_SIZE = 512 * 1024 * 1024  # reserved, not committed: pages are used as reached
RECURSION_LIMIT = 50_000  # well within STACK_SIZE, whatever the frames hold
_LOCK = threading.Lock()
_STATE = threading.local()


def on_large_stack(function: Callable[..., T], *args: Any) -> T:
    """``function(*args)``, run on a large stack; its exception, if any, is raised here."""
    if getattr(_STATE, "large", False):
        return function(*args)
    outcome: dict[str, Any] = {}

    def target() -> None:
        _STATE.large = True
        try:
            outcome["value"] = function(*args)
        except BaseException as exc:  # handed over to the calling thread
            outcome["error"] = exc

    with _LOCK:  # one at a time: the recursion limit is the interpreter's
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(limit, RECURSION_LIMIT))
        try:
            thread = _started(target)
            if thread is not None:
                thread.join()
        finally:
            sys.setrecursionlimit(limit)
    if thread is None:  # no large stack to be had here: run as is
        return function(*args)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]  # type: ignore[no-any-return]


def _started(target: Callable[[], None]) -> threading.Thread | None:
    """A daemon thread (Ctrl-C need not wait for it) running ``target`` on a large stack,
    or None where the platform or the memory limits refuse one."""
    try:
        size = threading.stack_size(STACK_SIZE)
    except (ValueError, RuntimeError):
        return None
    try:
        thread = threading.Thread(target=target, name="asyncorm-lint-large-stack", daemon=True)
        thread.start()
        return thread
    except RuntimeError:  # can't start new thread
        return None
    finally:
        threading.stack_size(size)


def retrying_deep(function: Callable[..., T], *args: Any) -> T:
    """``function(*args)``; run again on a large stack if it ran out of recursion depth
    (``function`` must start afresh each time: no state kept from the first try)."""
    try:
        return function(*args)
    except RecursionError:
        if getattr(_STATE, "large", False):
            raise
        return on_large_stack(function, *args)

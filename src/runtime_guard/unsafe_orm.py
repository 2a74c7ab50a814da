"""Sync ORM use on the event-loop thread, caught at Django's own check.

Django's ``async_unsafe`` decorator (on ``connect``, ``cursor``, ``commit``...) calls the
``get_running_loop`` of ``django.utils.asyncio`` and raises ``SynchronousOnlyOperation`` when
a loop runs in the calling thread, unless ``DJANGO_ALLOW_ASYNC_UNSAFE`` is set. The guard
swaps that one module-level name for :func:`_checked_get_running_loop`, which, inside a
guarded scope, records the violation and then either raises a
:class:`GuardSynchronousOnlyOperation` (``raise``) or lets this one call through by
reporting "no running loop" to that check only (``warn``, ``log``). Nothing global is
flipped: other calls, threads and requests are decided on their own.

A connection used on the event-loop thread belongs to the task's context (asgiref's
thread-critical ``Local`` is context-local under a running loop), and Django never closes
it: the request's own connection would linger until garbage collection. The guard closes
the connections it let a request open on the loop when that request's scope ends.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from types import FrameType

import django.utils.asyncio as django_asyncio
from django.core.exceptions import SynchronousOnlyOperation
from django.db.backends.base.base import BaseDatabaseWrapper

from runtime_guard import attribution, operations, reporting, scope
from runtime_guard.records import Record, RecordKind

_real_get_running_loop = asyncio.get_running_loop
_internal: ContextVar[bool] = ContextVar("runtime_guard_internal", default=False)
logger = logging.getLogger("runtime_guard")


class GuardSynchronousOnlyOperation(SynchronousOnlyOperation):
    """Django's ``SynchronousOnlyOperation``, with the user's location and the fix."""

    def __init__(self, record: Record) -> None:
        super().__init__(record.message)
        self.record = record


class _AllowedOnce(RuntimeError):
    """Tells ``async_unsafe`` "no running loop" for one check: that call runs."""


def _message(op: operations.Operation, loc: attribution.Location | None, where: str) -> str:
    if loc is None:
        site = "(no frame outside Django)"
    else:
        site = f"{loc} in {'async ' if loc.is_async else ''}function {loc.function}"
    return (
        f"{op.code} {site}: {op.display} runs sync ORM code on the event loop: use {op.fix}{where}"
    )


def _report(guarded: scope.GuardScope, frame: FrameType) -> tuple[Record, bool]:
    """The violation seen from ``frame``, and whether it is new (not yet reported)."""
    frames = attribution.stack(frame)
    user_index = attribution.first_user_index(frames)
    op, entry_frame = operations.identify(frames, user_index)
    loc = attribution.location_of(frames[user_index]) if user_index is not None else None
    key = (op.code, str(loc), op.name)
    existing = guarded.violation(key, entry_frame)
    if existing is not None:
        return existing, False
    where = f" [request {guarded.label}]" if guarded.kind == "request" else ""
    record = Record(
        kind=RecordKind.VIOLATION,
        code=op.code,
        message=_message(op, loc, where),
        operation=op.name,
        replacement=op.replacement,
        location=loc,
        request_id=guarded.id if guarded.kind == "request" else None,
        request_path=guarded.label if guarded.kind == "request" else None,
        thread=threading.current_thread().name,
        mode=guarded.settings.mode,
    )
    guarded.add_violation(key, record)
    return record, True


@contextmanager
def guard_internal() -> Iterator[None]:
    """Let the guard's own cleanup call async-unsafe Django code on the loop, unreported."""
    token = _internal.set(True)
    try:
        yield
    finally:
        _internal.reset(token)


def _close_loop_connections(guarded: scope.GuardScope) -> None:
    """Close the connections this scope was allowed to open on the event-loop thread."""
    connections: set[BaseDatabaseWrapper] = guarded.data.pop("loop_connections", set())
    for connection in connections:
        if connection.in_atomic_block:
            continue  # someone's transaction is still open on it: not ours to end
        try:
            with guard_internal():
                if connection._thread_ident == threading.get_ident():
                    connection.close()
                else:
                    connection.inc_thread_sharing()
                    try:
                        connection.close()
                    finally:
                        connection.dec_thread_sharing()
        except Exception:  # cleanup after the response; the request's own errors are untouched
            logger.exception("runtime_guard: could not close connection %r", connection.alias)


def _adopt_connection(guarded: scope.GuardScope, caller: FrameType) -> None:
    """Remember the connection an allowed call uses on the loop, to close it with the scope."""
    args = caller.f_locals.get("args") or ()
    connection = args[0] if args else None
    if not isinstance(connection, BaseDatabaseWrapper):
        return
    connections = guarded.data.setdefault("loop_connections", set())
    if not connections:
        guarded.add_cleanup(_close_loop_connections)
    connections.add(connection)


def _checked_get_running_loop() -> asyncio.AbstractEventLoop:
    """``get_running_loop`` as seen by ``async_unsafe``: the guard's decision point."""
    loop = _real_get_running_loop()  # RuntimeError: no loop in this thread, nothing to guard
    if _internal.get():
        raise _AllowedOnce("runtime_guard: the guard's own cleanup")
    guarded = scope.current()
    if guarded is None:
        return loop  # not guarded: Django decides, exactly as without the guard
    caller = sys._getframe(1)
    record, new = _report(guarded, caller)
    mode = guarded.settings.mode
    if mode == "raise" and not os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE"):
        if new:
            reporting.log(record, logging.ERROR)
        raise GuardSynchronousOnlyOperation(record)
    if new:
        reporting.log(record)
        if mode == "warn":
            reporting.warn(record)
    _adopt_connection(guarded, caller)
    raise _AllowedOnce("runtime_guard: this call may run on the event loop")


def install() -> None:
    """Swap in the guard's check (idempotent)."""
    django_asyncio.get_running_loop = _checked_get_running_loop


def uninstall() -> None:
    """Restore Django's check."""
    django_asyncio.get_running_loop = _real_get_running_loop

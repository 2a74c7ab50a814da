"""The sync driver: run the same plans on Django's own connections.

Two uses. Tests run plans with :func:`run` / :func:`iterate` from sync code to
prove the plans give Django's sync results. And the async driver uses
:class:`PinnedLease` when the caller's Django connection is inside a
transaction (``atomic()`` in the sync code that called into async, as Django's
``TestCase`` does): the steps then run on that connection, in that
transaction, with Django's cursor wrapper (query logging, ``execute_wrapper``),
blocking the event loop for their duration instead of hopping threads.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Iterator
from typing import Any, TypeVar

from django.db import connections

from ..steps import Close, Emit, Execute, Fetch, FetchMany, Plan, Row, Step

T = TypeVar("T")


class DjangoLease:
    """Steps on one Django ``DatabaseWrapper``."""

    def __init__(self, wrapper: Any, *, from_event_loop: bool = False) -> None:
        self.wrapper = wrapper
        self.from_event_loop = from_event_loop
        self._stream: Any = None

    def _cursor(self, server_side: bool) -> Any:
        wrapper = self.wrapper
        if not self.from_event_loop:
            return wrapper.chunked_cursor() if server_side else wrapper.cursor()
        # On the event loop Django's cursor() refuses (async_unsafe); the connection
        # is open and its owning thread is parked, so create the cursor as
        # Django's _cursor() does, minus ensure_connection().
        name = None
        if server_side and wrapper.vendor == "postgresql":
            wrapper._named_cursor_idx += 1
            name = f"_django_curs_{threading.get_ident()}_native_{wrapper._named_cursor_idx}"
        create_cursor = inspect.unwrap(type(wrapper).create_cursor)
        return wrapper._prepare_cursor(create_cursor(wrapper, name))

    def execute(self, step: Execute) -> Any:
        if step.using != self.wrapper.alias:
            raise RuntimeError(
                f"asyncorm_native: step for {step.using!r} on {self.wrapper.alias!r}"
            )
        server_side = step.fetch is Fetch.STREAM and step.server_side
        cursor = self._cursor(server_side)
        try:
            cursor.execute(step.sql, step.params)
            if step.fetch is Fetch.ALL:
                rows = cursor.fetchall()
                if step.describe:
                    description = cursor.description
                    return rows, None if description is None else [c[0] for c in description]
                return rows
            if step.fetch is Fetch.ONE:
                return cursor.fetchone()
        except BaseException:
            cursor.close()
            raise
        if step.fetch is Fetch.STREAM:
            self._stream = cursor
            return None
        cursor.close()
        return None

    def fetchmany(self, size: int) -> list[Row]:
        return self._stream.fetchmany(size)

    def close_stream(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.close()

    def release(self) -> None:
        self.close_stream()


class PinnedLease:
    """Async face of a :class:`DjangoLease` on a connection owned by a parked thread."""

    __slots__ = ("_lease",)

    def __init__(self, wrapper: Any) -> None:
        wrapper.inc_thread_sharing()
        self._lease = DjangoLease(wrapper, from_event_loop=True)

    async def execute(self, step: Execute) -> Any:
        return self._lease.execute(step)

    async def fetchmany(self, size: int) -> list[Row]:
        return self._lease.fetchmany(size)

    async def close_stream(self) -> None:
        self._lease.close_stream()

    async def release(self) -> None:
        try:
            self._lease.release()
        finally:
            self._lease.wrapper.dec_thread_sharing()


class SyncSession:
    """Django connections of one plan run (the current thread's), one per alias."""

    def __init__(self) -> None:
        self._leases: dict[str, DjangoLease] = {}
        self._stream: DjangoLease | None = None

    def perform(self, step: Step) -> Any:
        if type(step) is Execute:
            lease = self._leases.get(step.using)
            if lease is None:
                lease = self._leases[step.using] = DjangoLease(connections[step.using])
            result = lease.execute(step)
            if step.fetch is Fetch.STREAM:
                self._stream = lease
            return result
        if type(step) is FetchMany:
            if self._stream is None:
                raise RuntimeError("asyncorm_native: FetchMany without an open stream")
            return self._stream.fetchmany(step.size)
        if type(step) is Close:
            if self._stream is not None:
                stream, self._stream = self._stream, None
                stream.close_stream()
            return None
        raise TypeError(f"asyncorm_native: the sync driver cannot perform {step!r}")

    def close(self) -> None:
        leases, self._leases, self._stream = list(self._leases.values()), {}, None
        for lease in leases:
            lease.release()


def run(plan: Plan[T]) -> T:
    """Run a value plan on Django's connections (sync code only)."""
    session = SyncSession()
    send: Any = None
    error: BaseException | None = None
    try:
        while True:
            try:
                step = plan.send(send) if error is None else plan.throw(error)
            except StopIteration as stop:
                return stop.value
            error = None
            if type(step) is Emit:
                raise TypeError("asyncorm_native: a value plan emitted items")
            try:
                send = session.perform(step)
            except BaseException as exc:
                error, send = exc, None
    finally:
        plan.close()
        session.close()


def iterate(plan: Plan[Any]) -> Iterator[Any]:
    """Run a streaming plan on Django's connections, yielding what it emits."""
    session = SyncSession()
    send: Any = None
    error: BaseException | None = None
    try:
        while True:
            try:
                step = plan.send(send) if error is None else plan.throw(error)
            except StopIteration:
                return
            error = send = None
            if type(step) is Emit:
                yield from step.items
                continue
            try:
                send = session.perform(step)
            except BaseException as exc:
                error = exc
    finally:
        plan.close()
        session.close()

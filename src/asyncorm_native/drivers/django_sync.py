"""The sync driver: run the same plans on Django's own connections.

Two uses. Tests run plans with :func:`run` / :func:`iterate` from sync code to
prove the plans give Django's sync results. And the async driver uses
:class:`DjangoConnectionLease` (pinned) when the caller's Django connection is inside a
transaction (``atomic()`` in the sync code that called into async, as Django's
``TestCase`` does): the steps then run on that connection, in that
transaction, with Django's cursor wrapper (query logging, ``execute_wrapper``),
blocking the event loop for their duration instead of hopping threads.

There is one session and one step loop, the async driver's (``base.py``):
Django's connections get an async face whose methods never suspend, so the
sync driver completes ``base.run()`` with a single ``send(None)``.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from django.db import connections

from ..plans import intercept
from ..signals import send_sync
from ..steps import Execute, Fetch, Plan, Row
from . import base

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
        try:
            return base.written(step, cursor)
        finally:
            cursor.close()

    def fetchmany(self, size: int) -> list[Row]:
        return self._stream.fetchmany(size)

    def close_stream(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.close()

    def release(self) -> None:
        self.close_stream()


class DjangoConnectionLease:
    """Async face of a :class:`DjangoLease`: its methods never suspend.

    ``pinned=True`` is for a connection owned by another thread that is parked
    in ``async_to_sync`` (the caller's transaction): thread sharing is allowed
    for the lease's duration, as Django's ``inc_thread_sharing()`` provides.
    ``on_release`` runs when the lease is given back (the router's hold on a
    shared connection). ``transaction`` is what atomic steps run on: Django's
    own ``Atomic`` in sync code, its mirror on the caller's connection.
    """

    __slots__ = ("_lease", "_on_release", "_pinned", "_transaction")

    def __init__(
        self, wrapper: Any, *, pinned: bool = False, on_release: Callable[[], None] | None = None
    ) -> None:
        if pinned:
            wrapper.inc_thread_sharing()
        self._pinned = pinned
        self._on_release = on_release
        self._lease = DjangoLease(wrapper, from_event_loop=pinned)
        self._transaction: Any = None

    @property
    def transaction(self) -> Any:
        if self._transaction is None:
            from ..atomic_blocks import CallerConnection, DjangoAtomics

            wrapper = self._lease.wrapper
            self._transaction = (
                CallerConnection(wrapper, self) if self._pinned else DjangoAtomics(wrapper.alias)
            )
        return self._transaction

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
            if self._pinned:
                self._lease.wrapper.dec_thread_sharing()
            if self._on_release is not None:
                on_release, self._on_release = self._on_release, None
                on_release()


async def _acquire(alias: str) -> DjangoConnectionLease:
    return DjangoConnectionLease(connections[alias])


def _complete(awaitable: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine that never suspends (all its leases are synchronous) to its end."""
    try:
        awaitable.send(None)
    except StopIteration as stop:
        return stop.value
    awaitable.close()
    raise RuntimeError("asyncorm_native: the sync driver met an await that suspends")


def session() -> base.AsyncSession:
    """A session on Django's connections: atomic steps run Django's own
    ``transaction.Atomic``, signals Django's ``Signal.send()``."""
    return base.AsyncSession(_acquire, send_sync)


@contextmanager
def inline(session: base.AsyncSession) -> Iterator[None]:
    """While a plan runs on ``session``: the Django code it replays (``intercept.replay``)
    has each statement performed on the spot, on the session, instead of being run again
    after each one (the async driver's way)."""
    token = intercept.inline.set(lambda plan: _complete(base.drive(plan, session)))
    try:
        yield
    finally:
        intercept.inline.reset(token)


def run(plan: Plan[T]) -> T:
    """Run a value plan on Django's connections (sync code only)."""
    on = session()
    with inline(on):
        return _complete(base.run(plan, _acquire, on))


def complete(awaitable: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine of the sync driver (one that never suspends) to its end."""
    return _complete(awaitable)


def iterate(plan: Plan[Any]) -> Iterator[Any]:
    """Run a streaming plan on Django's connections, yielding what it emits."""
    items = base.iterate(plan, _acquire)
    try:
        while True:
            try:
                yield _complete(items.__anext__())
            except StopAsyncIteration:
                return
    finally:
        _complete(items.aclose())

"""The async driver: run a plan's steps on leased connections, on the event loop.

A *lease* is one database connection held for the length of one plan run
(pool connection, or the caller's Django connection when it is inside a
transaction). A plan may touch several aliases (prefetching across
databases); the session leases one connection per alias on first use and
returns them all when the plan ends, is cancelled or fails.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol, TypeVar

from ..reporting import statements
from ..steps import (
    BeginAtomic,
    Close,
    Emit,
    EndAtomic,
    Execute,
    Fetch,
    FetchMany,
    MarkRollback,
    Plan,
    Row,
    Send,
    Step,
)

T = TypeVar("T")


class AsyncLease(Protocol):
    """One connection, held by one plan run."""

    async def execute(self, step: Execute) -> Any:
        """Run ``step``; return rows, a row, ``(rows, names)`` or None (stream opened)."""

    async def fetchmany(self, size: int) -> list[Row]:
        """Next rows of the open stream."""

    async def close_stream(self) -> None:
        """Close the open stream, if any."""

    async def release(self) -> None:
        """Give the connection back (closing any open stream)."""


Acquire = Callable[[str], Awaitable[AsyncLease]]
SendSignal = Callable[[Send], Awaitable[None]]
#: Fetch modes of statements that change data (an INSERT ... RETURNING says so with ``write``).
WRITE_FETCHES = frozenset({Fetch.ROWCOUNT, Fetch.NONE, Fetch.LASTROWID})


def written(step: Execute, cursor: Any) -> Any:
    """The result of a write ``step`` from its DB-API ``cursor`` (ROWCOUNT, NONE, LASTROWID)."""
    if step.fetch is Fetch.ROWCOUNT:
        return cursor.rowcount
    if step.fetch is Fetch.LASTROWID:
        return cursor.lastrowid
    return None


class AsyncSession:
    """The leases of one plan run, one per alias, acquired on first use.

    ``effects`` turns True at the first step that changes something (a write,
    a signal, a transaction step): from then on the run cannot be replaced by
    Django's stock method.
    """

    __slots__ = ("_acquire", "_blocks", "_leases", "_send", "_stream", "_transactions", "effects")

    def __init__(self, acquire: Acquire, send: SendSignal | None = None) -> None:
        self._acquire = acquire
        self._leases: dict[str, AsyncLease] = {}
        self._stream: AsyncLease | None = None
        self._send = send
        self._transactions: dict[str, Any] = {}
        self._blocks: list[tuple[Any, Any]] = []
        self.effects = False

    @property
    def acquire(self) -> Acquire:
        return self._acquire

    async def _lease(self, alias: str) -> AsyncLease:
        lease = self._leases.get(alias)
        if lease is None:
            lease = self._leases[alias] = await self._acquire(alias)
        return lease

    async def transaction(self, alias: str) -> Any:
        """The transactional face of the ``alias`` connection (see ``atomic_blocks``)."""
        tx = self._transactions.get(alias)
        if tx is None:
            lease = await self._lease(alias)
            tx = getattr(lease, "transaction", None)
            if tx is None:
                from ..atomic_blocks import NativeConnection

                tx = NativeConnection(alias, lease)
            self._transactions[alias] = tx
        return tx

    async def perform(self, step: Step) -> Any:
        kind = type(step)
        if kind is Execute:
            lease = self._leases.get(step.using)
            if lease is None:
                lease = self._leases[step.using] = await self._acquire(step.using)
            statements["native"] += 1
            if step.write or step.fetch in WRITE_FETCHES:
                self.effects = True
            if self._transactions:
                tx = self._transactions.get(step.using)
                if tx is not None:
                    tx.validate_no_broken_transaction()
            result = await lease.execute(step)
            if step.fetch is Fetch.STREAM:
                self._stream = lease
            return result
        if kind is FetchMany:
            if self._stream is None:
                raise RuntimeError("asyncorm_native: FetchMany without an open stream")
            return await self._stream.fetchmany(step.size)
        if kind is Close:
            if self._stream is not None:
                stream, self._stream = self._stream, None
                await stream.close_stream()
            return None
        if kind is Send:
            self.effects = True
            if self._send is None:
                from ..signals import send

                self._send = send
            await self._send(step)
            return None
        if kind is BeginAtomic:
            self.effects = True
            tx = await self.transaction(step.using)
            handle = await tx.enter(step.savepoint, step.durable)
            self._blocks.append((tx, handle))
            return handle
        if kind is EndAtomic:
            if not self._blocks or self._blocks[-1][1] is not step.handle:
                raise RuntimeError("asyncorm_native: EndAtomic does not close the innermost block")
            tx, handle = self._blocks.pop()
            await tx.exit(handle, step.error)
            return None
        if kind is MarkRollback:
            (await self.transaction(step.using)).mark_rollback()
            return None
        raise TypeError(f"asyncorm_native: the async driver cannot perform {step!r}")

    async def close(self) -> None:
        """Leave blocks a plan left open (rolling back), then release every lease."""
        errors = []
        while self._blocks:
            tx, handle = self._blocks.pop()
            try:
                await tx.exit(handle, RuntimeError("asyncorm_native: a plan ended inside atomic()"))
            except BaseException as exc:
                errors.append(exc)
        leases, self._leases, self._stream = list(self._leases.values()), {}, None
        self._transactions = {}
        for lease in leases:
            try:
                await lease.release()
            except BaseException as exc:
                errors.append(exc)
        if errors:
            raise errors[0]


async def drive(plan: Plan[T], session: AsyncSession) -> T:
    """Perform a value plan's steps on ``session`` (which stays open) and return its value."""
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
                send = await session.perform(step)
            except BaseException as exc:  # thrown into the plan, which re-raises
                error, send = exc, None
    finally:
        plan.close()


async def run(plan: Plan[T], acquire: Acquire, session: AsyncSession | None = None) -> T:
    """Run a plan that returns one value (on ``session`` when given), then close the session."""
    if session is None:
        session = AsyncSession(acquire)
    try:
        return await drive(plan, session)
    finally:
        if session._leases or session._blocks:
            await session.close()


async def iterate(plan: Plan[Any], acquire: Acquire) -> AsyncIterator[Any]:
    """Run a streaming plan, yielding the items it emits."""
    session = AsyncSession(acquire)
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
                for item in step.items:
                    yield item
                continue
            try:
                send = await session.perform(step)
            except BaseException as exc:
                error = exc
    finally:
        plan.close()
        if session._leases or session._blocks:
            await session.close()


_sql_logger = logging.getLogger("django.db.backends")


class logged_query:  # a context manager, like Django's debug_sql()
    """Time a pooled query and record it as Django's debug cursor does.

    With ``settings.DEBUG`` (or a forced debug cursor) the query goes to the
    current thread's ``connection.queries`` and to the ``django.db.backends``
    logger, so native queries show up where Django's do.
    """

    __slots__ = ("_params", "_sql", "_start", "_wrapper")

    def __init__(self, wrapper: Any, sql: str, params: Any) -> None:
        self._wrapper = wrapper if wrapper.queries_logged else None
        self._sql = sql
        self._params = params

    def __enter__(self) -> None:
        if self._wrapper is not None:
            self._start = time.monotonic()

    def __exit__(self, *exc: object) -> None:
        wrapper = self._wrapper
        if wrapper is None:
            return
        duration = time.monotonic() - self._start
        wrapper.queries_log.append({"sql": self._sql, "time": f"{duration:.3f}"})
        _sql_logger.debug(
            "(%.3f) %s; args=%s; alias=%s",
            duration,
            self._sql,
            self._params,
            wrapper.alias,
            extra={
                "duration": duration,
                "sql": self._sql,
                "params": self._params,
                "alias": wrapper.alias,
            },
        )
